"""R-CNN: warped crops and the multi-task loss with known answers, the Instances dict and
the story of one image, and a tiny run through the engine that stops, resumes to the very
weights of an uninterrupted run, records box-only probes and writes evaluation.json."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.errors import DataError, ModelError

TINY = {"crop": 16, "context": 2, "filters": 4, "units": 16, "crops_per_image": 8,
        "max_detections": 5}
NAMES = ["background", "square", "circle", "triangle"]


@pytest.fixture(scope="module")
def model():
    from cnnstudio.core.registry import ARCHITECTURES

    built = ARCHITECTURES.get("rcnn").build((64, 64, 3), 3, TINY)
    built.class_names = list(NAMES)
    return built


def test_warp_crops_fill_the_crop_and_show_context():
    from cnnstudio.core.families.detection.rcnn_models_tf import warp_crops

    image = np.zeros((20, 20, 3), np.uint8)
    image[5:15, 5:15] = 200
    box = np.array([[5, 5, 15, 15]], np.float32)
    plain = warp_crops(image, box, 10, context=0)
    assert plain.shape == (1, 10, 10, 3) and plain.dtype == np.uint8
    assert (plain == 200).all()                  # the region fills the crop
    framed = warp_crops(image, box, 10, context=2)[0]
    assert (framed[2:8, 2:8] == 200).all()       # the region, 6×6 in the middle
    ring = np.ones((10, 10), bool)
    ring[2:8, 2:8] = False
    assert (framed[ring] == 0).all()             # two pixels of its surroundings a side
    assert warp_crops(image, np.zeros((0, 4)), 10).shape == (0, 10, 10, 3)


def test_multi_task_loss_known_answer(model):
    import tensorflow as tf

    net = model.net
    saved = [w.copy() for w in net.get_weights()]
    try:
        for layer in ("class_logits", "box_deltas"):
            weights = net.get_layer(layer).get_weights()
            net.get_layer(layer).set_weights([np.zeros_like(w) for w in weights])
        crops = np.random.default_rng(0).integers(0, 255, (3, 16, 16, 3), dtype=np.uint8)
        targets = np.array([[0.5, -2, 0, 0], [9, 9, 9, 9], [0, 0, 1, 0]], np.float32)
        parts = model.compute_losses({"crops": tf.constant(crops),
                                      "class_ids": tf.constant([2, 0, 1]),
                                      "box_targets": tf.constant(targets)}, training=False)
        # Zero logits: −log(1/4) for every crop. Zero deltas: smooth L1 of the foreground
        # crops' targets (0.125 + 1.5 and 0.5), averaged over those 2; the background
        # crop's targets do not count. argmax of equal logits is 0: 1 crop in 3 right.
        assert float(parts["class_loss"]) == pytest.approx(np.log(4), rel=1e-5)
        assert float(parts["box_loss"]) == pytest.approx((1.625 + 0.5) / 2, rel=1e-5)
        assert float(parts["loss"]) == pytest.approx(np.log(4) + 1.0625, rel=1e-5)
        assert float(parts["accuracy"]) == pytest.approx(1 / 3)
    finally:
        net.set_weights(saved)


def test_detections_and_story_of_one_image(model):
    from cnnstudio.core.families.detection import maskrcnn_probes as mp
    from cnnstudio.core.families.detection import shapes_data

    image = shapes_data.generate(1, 2, 96).x[0]             # another size: scaled back
    found = mp.detect(model, image)                          # the probes' path
    k = len(found["boxes"])
    assert found["boxes"].shape == (k, 4) and found["boxes"].dtype == np.float32
    assert found["class_ids"].dtype == np.int32 and found["scores"].shape == (k,)
    assert set(found["class_ids"].tolist()) <= {1, 2, 3} and k <= 5
    assert found["class_names"] == NAMES and found["image_size"] == (96, 96)
    assert "masks" not in found and "mask_28" not in found
    story = model.story(image, top=4)
    n = len(story["proposals"])
    assert story["cnn_calls"] == n > 4
    assert story["proposals"].max() <= 96 and story["proposals"].max() > 64
    assert story["crops"].shape == (4, 16, 16, 3) and story["crops"].dtype == np.uint8
    assert story["crop_scores"].shape == (4, 4)
    assert np.allclose(story["crop_scores"].sum(axis=1), 1, atol=1e-5)
    best = story["crop_scores"][:, 1:].max(axis=1)
    assert np.all(np.diff(best) <= 0)                        # most object-like first
    assert story["crop_boxes"].shape == story["refined_boxes"].shape == (4, 4)
    assert set(story["ms"]) == {"proposals", "cnn", "nms"}
    assert all(v >= 0 for v in story["ms"].values())
    assert set(story["detections"]) >= {"boxes", "class_ids", "scores", "class_names"}


def test_evaluation_scores_perfect_detections_one():
    from cnnstudio.core.families.detection import rcnn_task, shapes_data

    split = shapes_data.generate(3, 2, 64)

    class Oracle:             # detects exactly the ground truth
        def detect_batch(self, images):
            start = int(np.flatnonzero((split.x == images[0]).all(axis=(1, 2, 3)))[0])
            return [{"boxes": a["boxes"], "class_ids": a["class_ids"],
                     "scores": np.ones(len(a["boxes"]), np.float32), "image_size": (64, 64)}
                    for a in split.annotations[start:start + len(images)]]

    figures = rcnn_task.INSTANCE.evaluate_split(Oracle(), split)
    assert figures["box_ap50"] == pytest.approx(1.0) and figures["box_ap"] == pytest.approx(1.0)
    assert figures["mask_ap50"] is None


def _config(epochs=2) -> RunConfig:
    # 7 training images → 45 crops, batches of 10: 5 steps an epoch, calls of 3 and 2 (the
    # resumed run must start at the epoch's first batch).
    return RunConfig(DatasetConfig("shapes", {"count": 7, "test_count": 2, "size": 64}),
                     ModelConfig("rcnn", dict(TINY)),
                     TrainConfig(epochs=epochs, batch_size=10, seed=3, validation_split=0.0,
                                 steps_per_call=3))


@pytest.mark.slow
def test_trains_stops_and_resumes_exactly_through_the_engine(runs_root):
    from cnnstudio.core.families.detection import maskrcnn_probes as mp
    from cnnstudio.core.keras_setup import keras
    from cnnstudio.core.training import engine
    from cnnstudio.core.training.control import RunControl
    from cnnstudio.core.training.events import EpochEnd
    from cnnstudio.core.training.rundir import RunDir

    events = []
    whole = engine.run(_config(), runs_root=runs_root, sink=events.append)
    assert whole.status == "finished", whole.summary
    logs = [e.logs for e in events if isinstance(e, EpochEnd)][0]
    assert set(logs) >= {"loss", "class_loss", "box_loss", "accuracy"}
    assert all(np.isfinite(v) for v in logs.values())
    report = json.loads((whole.run_dir / "evaluation.json").read_text())
    assert report["task"] == "rcnn" and report["num_test"] == 2
    assert 0 <= report["box_ap50"] <= 1 and "mask_ap50" not in report
    assert report["class_names"] == NAMES
    images, found = mp.DetectionStore(whole.run_dir).load(2)     # box-only probes replay
    assert images.shape == (2, 64, 64, 3) and len(found) == 2
    assert "mask_28" not in found[0] and found[0]["boxes"].shape[1:] == (4,)

    control = RunControl()

    def stop_after_first(model, epoch):
        if epoch == 1:
            control.stop()

    cut = engine.run(_config(), runs_root=runs_root, control=control,
                     epoch_hooks=[stop_after_first])
    assert cut.status == "stopped" and RunDir(cut.run_dir).last_checkpoint()[0] == 1
    resumed = engine.resume(cut.run_dir)
    assert resumed.status == "finished", resumed.summary
    load = keras().saving.load_model
    a = load(whole.run_dir / "model.keras", safe_mode=True)
    b = load(resumed.run_dir / "model.keras", safe_mode=True)
    assert b.class_names == NAMES and b.crop == 16
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)
    assert mp.DetectionStore(resumed.run_dir).epochs() == [1, 2]


def test_refusals_say_what_is_wrong(runs_root):
    from cnnstudio.core.registry import ARCHITECTURES
    from cnnstudio.core.training import engine

    config = RunConfig(DatasetConfig("digits", {"size": 32}), ModelConfig("rcnn", TINY),
                       TrainConfig(epochs=1, batch_size=2))
    with pytest.raises(DataError, match="object boxes"):
        engine.run(config, runs_root=runs_root)
    with pytest.raises(ModelError, match="context"):
        ARCHITECTURES.get("rcnn").build((64, 64, 3), 3, {"crop": 16, "context": 8})
    with pytest.raises(ModelError, match="square colour"):
        ARCHITECTURES.get("rcnn").build((64, 48, 3), 3, {})


def test_profile_and_the_chapter7_preset():
    from pathlib import Path

    import cnnstudio
    from cnnstudio.core.families.profile import arch_profile

    profile = arch_profile("rcnn")
    assert (profile.prediction, profile.best_metric, profile.best_mode) == ("detect",
                                                                           "val_loss", "min")
    assert {"loss", "class_loss", "box_loss", "accuracy"} <= set(profile.keys())
    path = Path(cnnstudio.__file__).parent / "resources/presets/chapter7-rcnn-shapes.json"
    config = RunConfig.load(path)
    assert config.problems() == []
    assert (config.dataset.id, config.model.id) == ("shapes", "rcnn")
