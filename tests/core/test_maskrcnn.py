"""The compact Mask R-CNN: anchors, box coding, RoIAlign, NMS and the shapes generator with
known answers; a tiny model through the engine (stop, resume) and the pipeline probe."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.detection import anchors as al
from cnnstudio.core.families.detection import box_coding as bc
from cnnstudio.core.families.detection import shapes_data as sd

# -- anchors, box coding (numpy) -------------------------------------------------------------


def test_anchor_count_centres_and_sizes():
    a = al.level_anchors(128, 8, (32.0, 45.0), (0.5, 1.0, 2.0))
    assert a.shape == (16 * 16 * 6, 4)
    centres = np.stack([(a[:, 0] + a[:, 2]) / 2, (a[:, 1] + a[:, 3]) / 2], axis=1)
    assert np.allclose(centres[:6], [4, 4])                  # first cell's six anchors
    assert np.allclose(centres[6], [4, 12])                  # next cell along the row
    assert np.allclose(centres[16 * 6], [12, 4])             # first cell of the next row
    h, w = a[:6, 2] - a[:6, 0], a[:6, 3] - a[:6, 1]
    assert np.allclose(w / h, [0.5, 1, 2, 0.5, 1, 2], atol=1e-5)  # ratio = width / height
    assert np.allclose(h * w, [32 ** 2] * 3 + [45 ** 2] * 3, rtol=1e-5)
    assert np.allclose(a[1], [-12, -12, 20, 20])             # 32×32 square at (4, 4)
    levels = al.anchor_levels(128)
    assert {k: len(v) for k, v in levels.items()} == {"P3": 1536, "P4": 384}
    assert len(al.all_anchors(128)) == 1920


def test_box_encode_decode_round_trip_and_known_deltas():
    rng = np.random.default_rng(0)
    ref = np.sort(rng.uniform(0, 128, (50, 4)), axis=-1)[:, [0, 1, 2, 3]].astype(np.float32)
    ref[:, 2:] = ref[:, :2] + rng.uniform(4, 60, (50, 2))
    boxes = ref + rng.uniform(-5, 5, (50, 4)).astype(np.float32)
    assert np.allclose(bc.decode(bc.encode(boxes, ref), ref), boxes, atol=1e-3)
    anchor = np.array([[0, 0, 10, 20]], np.float32)
    assert np.allclose(bc.encode(anchor, anchor), 0)
    shifted = np.array([[10, 0, 20, 20]], np.float32)       # one height down
    assert np.allclose(bc.encode(shifted, anchor), [[10, 0, 0, 0]])   # 1 / 0.1
    doubled = np.array([[-5, -10, 15, 30]], np.float32)      # same centre, twice the size
    assert np.allclose(bc.encode(doubled, anchor), [[0, 0, np.log(2) / 0.2, np.log(2) / 0.2]])


# -- shapes ------------------------------------------------------------------------------------
def test_generated_masks_equal_the_drawn_pixels():
    rng = np.random.default_rng(5)
    for _ in range(20):
        image, ann = sd.draw_image(rng, size=64, min_shapes=2, max_shapes=4)
        masks = ann["masks"]
        assert masks.dtype == bool and masks.shape[1:] == (64, 64)
        assert masks.sum(axis=0).max() <= 1                  # occlusion: no pixel twice
        union = masks.any(axis=0)
        background = image[~union]
        assert len(np.unique(background.reshape(-1, 3), axis=0)) <= 1
        for mask in masks:
            colours = np.unique(image[mask].reshape(-1, 3), axis=0)
            assert len(colours) == 1                        # one shape, one colour
            if len(background):
                assert np.abs(colours[0].astype(int) - background[0]).sum() >= sd.MIN_CONTRAST
        rows = [np.flatnonzero(m.any(axis=1)) for m in masks]
        cols = [np.flatnonzero(m.any(axis=0)) for m in masks]
        expected = [[r[0], c[0], r[-1] + 1, c[-1] + 1] for r, c in zip(rows, cols, strict=True)]
        assert np.array_equal(ann["boxes"], np.array(expected, np.float32))
        assert set(ann["class_ids"].tolist()) <= {1, 2, 3}


def test_shapes_dataset_is_deterministic_and_checks_its_options():
    a = sd.load_shapes({"count": 5, "test_count": 3, "seed": 4, "size": 64})
    b = sd.load_shapes({"count": 9, "test_count": 3, "seed": 4, "size": 64})
    assert a.train.x.shape == (5, 64, 64, 3) and a.input_shape == (64, 64, 3)
    assert np.array_equal(a.train.x, b.train.x[:5])          # same seed, same images
    assert np.array_equal(a.test.x, b.test.x)                # test never moves with count
    assert all(1 <= len(x["class_ids"]) <= 4 for x in a.train.annotations)
    from cnnstudio.core.registry import DATASETS

    assert "shapes" in DATASETS
    with pytest.raises(DataError, match="max_shapes"):
        sd.load_shapes({"min_shapes": 3, "max_shapes": 2})
    with pytest.raises(DataError, match="size"):
        sd.load_shapes({"size": 10})


# -- TensorFlow ops ----------------------------------------------------------------------------
tf = pytest.importorskip("tensorflow")


def test_roi_align_samples_bin_centres_bilinearly():
    from cnnstudio.core.families.detection import maskrcnn_tf as mt

    yy, xx = np.mgrid[0:8, 0:8].astype(np.float32)
    feature = tf.constant((10 * yy + xx)[None, :, :, None])  # linear: bilinear is exact
    # Stride 1: box [0, 0, 4, 4] in 2×2 bins → bin centres at pixels 1 and 3, i.e. feature
    # coordinates 0.5 and 2.5 (pixel p ↔ p/stride − ½).
    out = mt.roi_align(feature, tf.constant([[[0.0, 0.0, 4.0, 4.0]]]), 1.0, 2)
    assert np.allclose(out.numpy()[0, 0, ..., 0], [[5.5, 7.5], [25.5, 27.5]])
    # Stride 2 over the same features: box [0, 0, 8, 8] → centres 2 and 6 → 0.5 and 2.5.
    out = mt.roi_align(feature, tf.constant([[[0.0, 0.0, 8.0, 8.0]]]), 2.0, 2)
    assert np.allclose(out.numpy()[0, 0, ..., 0], [[5.5, 7.5], [25.5, 27.5]])
    # An off-grid box: centre of a 1×1 bin over pixels [2, 3) × [4, 6) → feature (2, 4.5).
    out = mt.roi_align(feature, tf.constant([[[2.0, 4.0, 3.0, 6.0]]]), 1.0, 1)
    assert np.isclose(out.numpy()[0, 0, 0, 0, 0], 24.5)


def test_nms_and_class_aware_detections_on_hand_made_boxes():
    from cnnstudio.core.families.detection import maskrcnn_tf as mt

    boxes = tf.constant([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]],
                        tf.float32)       # IoU(0, 1) = 81/119 ≈ 0.68; IoU(0, 3) = 0.9
    scores = tf.constant([0.9, 0.8, 0.7, 0.95])
    kept, kept_scores, valid, keep = mt.nms_padded(boxes, scores, 5, 0.5)
    assert valid.numpy().tolist() == [True, True, False, False, False]
    assert keep.numpy()[:2].tolist() == [3, 2]
    assert np.allclose(kept_scores.numpy()[:2], [0.95, 0.7])
    assert np.allclose(kept.numpy()[2:], 0)
    # Detections: RoIs 0 and 3 overlap but are different classes, so both stay.
    probs = tf.constant([[0.1, 0.9, 0.0], [0.2, 0.7, 0.1], [0.9, 0.05, 0.05],
                         [0.1, 0.0, 0.9]])
    deltas = tf.zeros((4, 3, 4))
    out_boxes, ids, out_scores, ok = mt.detections(boxes, tf.constant([True] * 4), probs,
                                                   deltas, 128.0, 4, 0.5)
    assert ok.numpy().tolist() == [True, True, False, False]
    assert ids.numpy()[:2].tolist() == [1, 2] and np.allclose(out_scores.numpy()[:2], 0.9)
    assert np.allclose(out_boxes.numpy()[:2], [[0, 0, 10, 10], [0, 0, 10, 9]])


def test_rpn_targets_mark_the_best_anchor_of_each_box():
    from cnnstudio.core.families.detection import maskrcnn_tf as mt

    anchors = tf.constant([[0, 0, 10, 10], [0, 0, 20, 20], [50, 50, 60, 60]], tf.float32)
    gt = tf.constant([[[0, 0, 19, 19], [0, 0, 0, 0]]], tf.float32)
    labels, deltas = mt.rpn_targets(anchors, gt, tf.constant([[2, 0]]))
    assert labels.numpy().tolist() == [[-1, 1, -1]]     # IoU 0.28, 0.9, 0
    assert np.allclose(deltas.numpy()[0, 1], bc.encode(gt.numpy()[0, 0], anchors.numpy()[1]),
                       atol=1e-5)


# -- the model ---------------------------------------------------------------------------------
TINY = {"filters": 4, "fpn_filters": 8, "head_units": 16, "mask_filters": 4,
        "proposals": 20, "max_detections": 5}


def tiny_config(epochs=2) -> RunConfig:
    # 4 training images of 64×64, batches of 2: two steps an epoch.
    return RunConfig(DatasetConfig("shapes", {"count": 4, "test_count": 2, "size": 64}),
                     ModelConfig("maskrcnn", dict(TINY)),
                     TrainConfig(epochs=epochs, batch_size=2, seed=1, validation_split=0.0))


def test_pipeline_returns_the_documented_keys_and_shapes():
    from cnnstudio.core.families.detection import maskrcnn_probes as mp
    from cnnstudio.core.families.detection.instances import Instances
    from cnnstudio.core.registry import ARCHITECTURES

    model = ARCHITECTURES.get("maskrcnn").build((64, 64, 3), 3, TINY)
    grey = np.random.default_rng(0).integers(0, 255, (48, 80), dtype=np.uint8)
    p = mp.pipeline(model, grey, top_n=12)
    assert {"anchors", "proposals", "objectness", "after_nms", "detections",
            "class_names"} <= set(p)
    # 64×64 input: P3 8×8 cells and P4 4×4, six anchors each, scaled to the 48×80 image.
    assert {k: v.shape for k, v in p["anchors"].items()} == {"P3": (384, 4), "P4": (96, 4)}
    assert np.allclose(p["anchors"]["P3"][1], [-12 * 0.75, -12 * 1.25, 20 * 0.75, 20 * 1.25])
    assert p["proposals"].shape == (12, 4) and p["objectness"].shape == (12,)
    assert np.all(np.diff(p["objectness"]) <= 0)             # best first
    assert p["after_nms"].shape[1] == 4 and len(p["after_nms"]) <= 12
    assert p["proposals"][:, 2].max() <= 48 and p["proposals"][:, 3].max() <= 80
    d = p["detections"]
    k = len(d["boxes"])
    assert k <= 5 and d["class_ids"].shape == (k,) and d["scores"].shape == (k,)
    assert d["masks"].shape == (k, 48, 80) and d["masks"].dtype == bool
    assert d["mask_28"].shape == (k, 28, 28)
    assert p["class_names"] == ["background", "class 1", "class 2", "class 3"]
    assert len(Instances.from_dict(d)) == k


@pytest.mark.slow
def test_tiny_model_trains_stops_and_resumes_through_the_engine(runs_root, monkeypatch):
    from cnnstudio.core.registry import TASKS

    # Two steps do not repay tracing the graphs: eager steps (saved in the compile config,
    # so the resumed model and the writer's copy run eagerly too). The benchmark traces.
    monkeypatch.setattr(TASKS.get("detection"), "run_eagerly", True)
    from cnnstudio.core.families.detection import maskrcnn_probes as mp
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.training import engine
    from cnnstudio.core.training.control import RunControl
    from cnnstudio.core.training.events import EpochEnd, ProbeReady
    from cnnstudio.core.training.rundir import RunDir

    control, events = RunControl(), []

    def stop_after_first(model, epoch):
        if epoch == 1:
            control.stop()

    stopped = engine.run(tiny_config(), runs_root=runs_root, control=control,
                         sink=events.append, epoch_hooks=[stop_after_first])
    assert stopped.status == "stopped"
    logs = [e.logs for e in events if isinstance(e, EpochEnd)][0]
    assert set(logs) >= {"loss", "rpn_class_loss", "rpn_box_loss", "class_loss", "box_loss",
                         "mask_loss"}
    assert all(np.isfinite(v) for v in logs.values())
    folder = RunDir.open(stopped.run_dir)
    saved = load_model_file(folder.last_checkpoint()[1])
    assert int(saved.optimizer.iterations.numpy()) == 2           # 4 images / batches of 2
    assert saved.class_names == ["background", "square", "circle", "triangle"]
    probes = [e for e in events if isinstance(e, ProbeReady) and e.name == "detections"]
    assert [e.epoch for e in probes] == [1]
    images, detections = mp.DetectionStore(stopped.run_dir).load(1)
    assert images.shape == (2, 64, 64, 3) and len(detections) == 2

    resumed = engine.resume(stopped.run_dir)
    assert resumed.status == "finished"
    final = load_model_file(resumed.run_dir / "model.keras")
    assert int(final.optimizer.iterations.numpy()) == 4           # continued, not restarted
    assert mp.DetectionStore(resumed.run_dir).epochs() == [1, 2]
    # COCOeval's figures on the 2 test images, in the summary and in evaluation.json.
    import json

    report = json.loads((resumed.run_dir / "evaluation.json").read_text())
    assert {"box_ap", "box_ap50", "box_ap75", "mask_ap", "mask_ap50", "mask_ap75"} <= set(report)
    assert report["num_test"] == 2 and report["class_names"][0] == "background"
    assert all(0 <= report[k] <= 1 for k in ("box_ap50", "mask_ap50"))
    assert set(resumed.summary["test"]) >= {"box_ap50", "mask_ap50"}


def test_a_dataset_without_instance_masks_is_refused_before_the_run_folder(runs_root):
    from cnnstudio.core.training import engine

    config = RunConfig(DatasetConfig("digits", {"size": 32}), ModelConfig("maskrcnn", TINY),
                       TrainConfig(epochs=1, batch_size=2))
    with pytest.raises(DataError, match="instance masks"):
        engine.run(config, runs_root=runs_root)
    assert not any(runs_root.iterdir()) if runs_root.exists() else True


def test_the_chapter7_shapes_preset_is_a_valid_maskrcnn_run():
    from pathlib import Path

    import cnnstudio

    path = Path(cnnstudio.__file__).parent / "resources/presets/chapter7-maskrcnn-shapes.json"
    config = RunConfig.load(path)
    assert config.problems() == []
    assert (config.dataset.id, config.model.id) == ("shapes", "maskrcnn")
