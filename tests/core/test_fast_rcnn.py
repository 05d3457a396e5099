"""Fast R-CNN: proposal labels, sampling and per-class NMS with known answers; the batched
RoI sampler; the story of one image; a tiny model through the engine (stop, resume,
probes, COCOeval box figures)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.detection import box_coding as bc
from cnnstudio.core.families.detection import region_targets as rt


# -- region_targets (numpy) --------------------------------------------------------------------
def test_proposals_are_labelled_by_their_best_iou():
    gt = np.array([[0, 0, 10, 10], [20, 20, 40, 40]], np.float32)
    proposals = np.array([[0, 0, 10, 12],      # IoU 100/120 = 0.83 with box 0 → class 2
                          [20, 20, 40, 30],    # IoU 0.5 with box 1 → class 3 (≥ 0.5)
                          [0, 0, 10, 30],      # IoU 1/3 → background
                          [0, 0, 2, 2],        # IoU 0.04: below the paper's 0.1 → ignored
                          [60, 60, 70, 70]], np.float32)   # IoU 0 → ignored
    ids, targets = rt.label_proposals(proposals, gt, [2, 3])
    assert ids.tolist() == [2, 3, 0, -1, -1] and ids.dtype == np.int32
    assert np.allclose(targets[0], bc.encode(gt[0], proposals[0]))
    assert np.allclose(targets[1], bc.encode(gt[1], proposals[1]))
    assert np.allclose(targets[2:], 0)
    ids, _ = rt.label_proposals(proposals, gt, [2, 3], bg_iou=(0.0, 0.3))    # R-CNN's rule
    assert ids.tolist() == [2, 3, -1, 0, 0]
    ids, targets = rt.label_proposals(proposals, np.zeros((0, 4)), [], bg_iou=(0.0, 0.5))
    assert ids.tolist() == [0] * 5 and np.allclose(targets, 0)


def test_sampling_caps_the_foreground_and_never_takes_ignored_ones():
    ids = np.array([1, 2, 3, 1, 0, 0, -1, 0, 2, -1])
    picked = rt.sample(ids, 8, fg_fraction=0.25, rng=np.random.default_rng(3))
    assert len(picked) == 5                               # 2 foreground + all 3 background
    assert (ids[picked[:2]] > 0).all() and (ids[picked[2:]] == 0).all()
    assert sorted(picked[2:].tolist()) == [4, 5, 7]
    padded = rt.sample(ids, 8, fg_fraction=0.25, rng=np.random.default_rng(3), pad=True)
    assert len(padded) == 8 and (ids[padded] >= 0).all()
    assert len(rt.sample(np.array([-1, -1]), 4, pad=True)) == 0


def test_per_class_nms_suppresses_within_a_class_only():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 9], [0, 0, 10, 10], [30, 30, 40, 40]],
                     np.float32)
    scores = np.array([[0.1, 0.9, 0.0], [0.2, 0.8, 0.0], [0.1, 0.0, 0.9], [0.6, 0.4, 0.0]],
                      np.float32)
    out_boxes, ids, s = rt.per_class_nms(boxes, scores, iou=0.3, score_min=0.5)
    # Box 1 (IoU 0.9 with box 0, same class) goes; box 2 is another class; box 3 scores 0.4.
    assert ids.tolist() == [1, 2] and np.allclose(s, [0.9, 0.9])
    assert np.allclose(out_boxes, boxes[[0, 2]])
    # One box per class (N, C+1, 4): each class's own box is reported.
    per_class = np.stack([boxes, boxes + 1, boxes + 2], axis=1)
    out_boxes, ids, _ = rt.per_class_nms(per_class, scores, score_min=0.85,
                                         max_detections=1)
    assert ids.tolist() == [1] and np.allclose(out_boxes[0], boxes[0] + 1)
    assert rt.per_class_nms(boxes, scores, score_min=0.95)[0].shape == (0, 4)


tf = pytest.importorskip("tensorflow")


def test_the_batched_sampler_follows_the_same_rules():
    from cnnstudio.core.families.detection.fast_rcnn_models_tf import sample_rois

    labels = tf.constant([[1, 0, -1, 2, 0, 0, 3, -1], [-1, -1, 0, -1, -1, -1, -1, -1]])
    u = tf.constant([[0.5, 0.2, 0.99, 0.7, 0.9, 0.1, 0.3, 0.8]] * 2)
    pick, ok = sample_rois(labels, u, 4, 2)
    # Image 0: the two foreground with the largest u (3, then 0), then background by u.
    assert pick.numpy()[0].tolist() == [3, 0, 4, 1] and ok.numpy()[0].all()
    # Image 1: one background proposal only; the other slots are empty.
    assert pick.numpy()[1, 0] == 2 and ok.numpy()[1].tolist() == [True, False, False, False]


TINY = {"filters": 4, "head_units": 16, "rois_per_image": 8, "max_proposals": 30}


def test_story_of_one_image_has_every_stage():
    from cnnstudio.core.registry import ARCHITECTURES

    model = ARCHITECTURES.get("fast-rcnn").build((32, 32, 3), 3, TINY)
    from cnnstudio.core.families.detection.shapes_data import draw_image

    image, _ = draw_image(np.random.default_rng(2), size=32)
    wide = np.repeat(image, 2, axis=1)                     # 32×64: scaled back in x
    story = model.story(wide)
    assert set(story["ms"]) == {"proposals", "backbone", "heads", "nms"}
    assert story["cnn_calls"] == 1 and story["feature_map"].shape == (8, 8)
    assert story["feature_stride"] == 4
    n = len(story["proposals"])
    assert n >= 1 and story["rois"].shape == (n, 4) and story["roi_scores"].shape == (n, 4)
    assert story["proposals"][:, 3].max() <= 64 and story["proposals"][:, 2].max() <= 32
    d = story["detections"]
    assert d["image_size"] == (32, 64) and "masks" not in d
    assert d["boxes"].shape == (len(d["class_ids"]), 4) and len(d["class_ids"]) <= 20
    assert d["class_names"] == ["background", "class 1", "class 2", "class 3"]


def tiny_config(epochs=2) -> RunConfig:
    # 8 training images of 32×32, batches of 4: two steps an epoch, one per call (so Stop,
    # asked at epoch 1's end, acts after the first step of epoch 2).
    return RunConfig(DatasetConfig("shapes", {"count": 8, "test_count": 2, "size": 32}),
                     ModelConfig("fast-rcnn", dict(TINY)),
                     TrainConfig(epochs=epochs, batch_size=4, seed=1, validation_split=0.0,
                                 steps_per_call=1))


@pytest.mark.slow
def test_tiny_model_trains_stops_and_resumes_through_the_engine(runs_root, monkeypatch):
    from cnnstudio.core.registry import TASKS

    # Two steps do not repay tracing the graphs: eager steps (saved in the compile config,
    # so the resumed model runs eagerly too). The benchmark traces.
    monkeypatch.setattr(TASKS.get("fast-rcnn"), "run_eagerly", True)
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
    assert set(logs) >= {"loss", "class_loss", "box_loss", "fg_fraction"}
    assert all(np.isfinite(v) for v in logs.values())
    assert logs["loss"] == pytest.approx(logs["class_loss"] + logs["box_loss"], rel=1e-4)
    saved = load_model_file(RunDir.open(stopped.run_dir).last_checkpoint()[1])
    assert int(saved.optimizer.iterations.numpy()) == 2
    assert saved.class_names == ["background", "square", "circle", "triangle"]
    assert [e.epoch for e in events if isinstance(e, ProbeReady)
            and e.name == "detections"] == [1]
    images, detections = mp.DetectionStore(stopped.run_dir).load(1)
    assert images.shape == (2, 32, 32, 3) and len(detections) == 2

    resumed = engine.resume(stopped.run_dir)
    assert resumed.status == "finished"
    final = load_model_file(resumed.run_dir / "model.keras")
    assert int(final.optimizer.iterations.numpy()) == 4           # continued, not restarted
    report = json.loads((resumed.run_dir / "evaluation.json").read_text())
    assert {"box_ap", "box_ap50", "box_ap75"} <= set(report)
    assert not any(k.startswith("mask") for k in report)          # a box-only model
    assert report["task"] == "fast-rcnn" and report["num_test"] == 2
    assert 0 <= report["box_ap50"] <= 1 and "box_ap50" in resumed.summary["test"]


def test_a_dataset_without_boxes_is_refused_before_the_run_folder(runs_root):
    from cnnstudio.core.training import engine

    config = RunConfig(DatasetConfig("digits", {"size": 32}), ModelConfig("fast-rcnn", TINY),
                       TrainConfig(epochs=1, batch_size=2))
    with pytest.raises(DataError, match="object boxes"):
        engine.run(config, runs_root=runs_root)
    assert not any(runs_root.iterdir()) if runs_root.exists() else True


def test_the_chapter7_fast_rcnn_preset_is_a_valid_run():
    from pathlib import Path

    import cnnstudio

    path = Path(cnnstudio.__file__).parent / "resources/presets/chapter7-fast-rcnn-shapes.json"
    config = RunConfig.load(path)
    assert config.problems() == []
    assert (config.dataset.id, config.model.id) == ("shapes", "fast-rcnn")
