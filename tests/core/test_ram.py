"""The Recurrent Attention Model (chapter 9): the Glimpse Sensor with known answers, the
canvases repeat per seed, REINFORCE on a toy problem, and the RAM through the engine
(probes, stop then resume with its optimizer state, bad options, predict)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.datasets import DATASETS, load_dataset
from cnnstudio.core.errors import DataError, StudioError
from cnnstudio.core.families.attention import canvases as cv
from cnnstudio.core.families.attention import ram_probes
from cnnstudio.core.families.attention.glimpse import centre_pixel, glimpse, glimpse_boxes
from cnnstudio.core.families.profile import task_profile
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.training import engine
from cnnstudio.core.training.control import RunControl
from cnnstudio.core.training.rundir import RunDir

tf = pytest.importorskip("tensorflow")


def tiny(epochs=2, seed=3, **model) -> RunConfig:
    # 96 digits on 32×32 canvases: 3 batches of 32 per epoch; a 2-glimpse, 16-unit RAM.
    return RunConfig(DatasetConfig("mnist-translated", {"canvas": 32, "limit": 96}),
                     ModelConfig("ram", {"glimpses": 2, "patch": 8, "scales": 2, "hidden": 16,
                                         **model}),
                     TrainConfig(epochs=epochs, batch_size=32, validation_split=0.0, seed=seed))


def sensor_layer(patch, scales, ratio=2):
    from cnnstudio.core.families.attention.ram_models import GlimpseSensor

    return GlimpseSensor(patch, scales, ratio)


# -- the Glimpse Sensor -------------------------------------------------------------------------
@pytest.mark.parametrize("pixel", [(30, 30), (7, 50), (59, 0)])
def test_a_bright_pixel_lands_at_the_centre_of_every_scale(pixel):
    image = np.zeros((60, 60, 1), np.float32)
    image[pixel] = 255.0
    # the location whose centre pixel is ``pixel``: the middle of that pixel
    loc = ((2 * pixel[0] + 1) / 60 - 1, (2 * pixel[1] + 1) / 60 - 1)
    assert centre_pixel(loc, 60, 60) == pixel
    numpy_patches = glimpse(image, loc, patch=12, scales=3, ratio=2)
    layer_patches = np.asarray(sensor_layer(12, 3)(image[None], np.array([loc], np.float32)))[0]
    for patches in (numpy_patches, layer_patches):
        for k, expected in enumerate((255.0, 255.0 / 4, 255.0 / 16)):   # 1, 2×2, 4×4 blocks
            assert np.unravel_index(np.argmax(patches[k, ..., 0]), (12, 12)) == (6, 6)
            assert patches[k, 6, 6, 0] == pytest.approx(expected)
            assert np.count_nonzero(patches[k]) == 1


def test_zeros_outside_the_image():
    image = np.full((20, 20, 1), 200.0, np.float32)
    patches = glimpse(image, (-1.0, -1.0), patch=8, scales=2, ratio=2)   # top-left corner
    # centre pixel (0, 0): scale 0 covers rows/cols −4..3, scale 1 −8..7 (block-averaged)
    assert np.all(patches[0, :4] == 0) and np.all(patches[0, :, :4] == 0)
    assert np.all(patches[0, 4:, 4:] == 200.0)
    assert np.all(patches[1, :4] == 0) and np.all(patches[1, 4:, 4:] == 200.0)
    layer = np.asarray(sensor_layer(8, 2)(image[None], np.array([[-1.0, -1.0]], np.float32)))
    np.testing.assert_allclose(layer[0], patches, atol=1e-4)


def test_the_scale_k_patch_is_the_downsampled_region():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (64, 64, 1)).astype(np.float32)
    loc = (0.1, -0.2)
    patches = glimpse(image, loc, patch=8, scales=3, ratio=2)
    layer = np.asarray(sensor_layer(8, 3)(image[None], np.array([loc], np.float32)))[0]
    for k, (top, left, side) in enumerate(glimpse_boxes(image.shape, loc, 8, 3, 2)):
        assert side == 8 * 2 ** k and top >= 0 and top + side <= 64   # inside: no padding
        region = image[top:top + side, left:left + side, 0]
        expected = cv2.resize(region, (8, 8), interpolation=cv2.INTER_AREA)
        np.testing.assert_allclose(patches[k, ..., 0], expected, rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(layer[k, ..., 0], expected, rtol=1e-5, atol=1e-2)


def test_reinforce_moves_the_location_mean_toward_rewarded_locations():
    """Toy problem: reward 1 where the sampled column is beyond 0.4; the mean starts at 0."""
    from cnnstudio.core.families.attention.ram_models import gaussian_log_prob, reinforce_terms

    mean = tf.Variable([[0.0, 0.0]])
    rng = np.random.default_rng(0)
    for _ in range(60):
        locations = mean.numpy() + 0.2 * rng.standard_normal((256, 2)).astype(np.float32)
        reward = (locations[:, 1] > 0.4).astype(np.float32)
        with tf.GradientTape() as tape:
            log_pi = gaussian_log_prob(locations, tf.repeat(mean, 256, axis=0), 0.2)[:, None]
            loss, _ = reinforce_terms(log_pi, reward, np.full((256, 1), reward.mean(),
                                                              np.float32))
        mean.assign_sub(0.1 * tape.gradient(loss, mean))
    assert mean.numpy()[0, 1] > 0.4                  # moved toward the rewarded columns
    assert abs(mean.numpy()[0, 0]) < 0.15            # and not along the unrewarded axis


# -- data ---------------------------------------------------------------------------------------
def test_scene_generators_repeat_per_seed():
    digits = np.zeros((10, 28, 28, 1), np.uint8)
    digits[:, 10:18, 10:18] = 255
    labels = np.arange(10)
    scene = cv.Scene(canvas=60, clutter=4)
    a = cv.scene_batch(digits, labels, scene, seed=5, epoch=2, batch=1, size=8)
    b = cv.scene_batch(digits, labels, scene, seed=5, epoch=2, batch=1, size=8)
    c = cv.scene_batch(digits, labels, scene, seed=5, epoch=3, batch=1, size=8)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])            # a fresh epoch: fresh placements
    assert np.array_equal(cv.fixed_scenes(digits, scene, 1), cv.fixed_scenes(digits, scene, 1))
    x, centres = cv.place_digits(digits[:1], cv.Scene(canvas=60), cv.scene_rng(0))
    row, col = centre_pixel(centres[0], 60, 60)
    assert x[0, row, col, 0] == 255 and x.sum() == 64 * 255    # the digit's centre, nothing else


def test_epochs_key_the_placements_and_switch_the_location_hint():
    from types import SimpleNamespace

    from cnnstudio.core.families.attention.ram_task import EpochKey, SceneBatches

    digits = np.zeros((6, 28, 28, 1), np.uint8)
    digits[:, 12:16, 12:16] = 255
    batches = SceneBatches(digits, np.arange(6), cv.Scene(canvas=40), 4, seed=1, centres=True)
    x, (y, centres) = batches[0]
    assert x.shape == (4, 40, 40, 1) and y.shape == (4,) and centres.shape == (4, 2)
    assert len(batches) == 2 and batches[1][0].shape == (2, 40, 40, 1)
    key = EpochKey(batches)
    key.set_model(SimpleNamespace(hint_weight=tf.Variable(0.0), hint_epochs=2))
    key.on_epoch_begin(1)
    assert batches.epoch == 1 and float(key.model.hint_weight.numpy()) == 1.0
    assert not np.array_equal(batches[0][0], x)             # epoch 1: fresh placements
    key.on_epoch_begin(2)
    assert float(key.model.hint_weight.numpy()) == 0.0      # REINFORCE alone from here
    key.on_epoch_begin(0)
    assert np.array_equal(batches[0][0], x)                 # and epoch 0 again repeats


def test_canvas_datasets_are_registered_with_their_options():
    for dataset_id in ("mnist-translated", "mnist-cluttered", "mnist-noisy-collage"):
        source = DATASETS.get(dataset_id)
        assert {"canvas", "clutter", "noise"} <= set(source.options_help)
        assert not source.needs_download
    assert DATASETS.get("mnist-cluttered").shape_for({"canvas": 80}) == (80, 80, 1)
    data = load_dataset(DatasetConfig("mnist-noisy-collage", {"limit": 20}))
    assert data.input_shape == (100, 100, 1) and len(data.train) == 20
    assert data.scene.clutter == 8 and data.scene.noise > 0
    assert np.mean(data.test.x == 0) < 0.6          # noise everywhere, unlike MNIST's black
    with pytest.raises(DataError, match="canvas must be an integer between 28"):
        load_dataset(DatasetConfig("mnist-translated", {"canvas": 20}))


def test_a_dropped_photo_of_any_size_is_placed_as_training_placed_digits():
    photo = np.full((300, 200, 3), 230, np.uint8)            # dark ink on light paper
    cv2.putText(photo, "7", (40, 240), cv2.FONT_HERSHEY_SIMPLEX, 8, (20, 20, 20), 25)
    canvas, steps = cv.place_on_canvas(photo, 60)
    assert canvas.shape == (60, 60, 1)
    assert canvas[:16].max() == 0 and canvas[:, :16].max() == 0    # black around the digit
    assert canvas[16:44, 16:44].max() > 64                         # light strokes, centred
    assert any(s.startswith("placed") for s in steps)
    scene = np.zeros((60, 60, 1), np.uint8)
    assert np.array_equal(cv.place_on_canvas(scene, 60)[0], scene)   # a canvas stays as is


# -- the model through the engine ----------------------------------------------------------------
@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    control = RunControl()

    def stop_after_first(model, epoch):
        if epoch == 1:
            control.stop()

    root = tmp_path_factory.mktemp("ram-runs")
    return engine.run(tiny(epochs=2), runs_root=root, control=control,
                      epoch_hooks=[stop_after_first])


@pytest.mark.slow
def test_stop_then_resume_restores_the_ram_optimizer_state(stopped_run):
    assert stopped_run.status == "stopped"
    folder = RunDir.open(stopped_run.run_dir)
    saved = load_model_file(folder.last_checkpoint()[1])
    assert folder.last_checkpoint()[0] == 1
    assert int(saved.optimizer.iterations.numpy()) == 3           # one epoch, 3 steps
    moments = [v.numpy() for v in saved.optimizer.variables[2:]]
    assert any(np.abs(m).sum() > 0 for m in moments)              # Adam's slots, not zeros
    frame = ram_probes.GlimpseStore(stopped_run.run_dir).load(1)
    assert frame.locations.shape == (8, 2, 2) and frame.probabilities.shape == (8, 2, 10)
    assert np.allclose(frame.locations[:, 0], 0.0)                # the first look: centre

    resumed = engine.resume(stopped_run.run_dir)
    assert resumed.status == "finished"
    final = load_model_file(resumed.run_dir / "model.keras")
    assert int(final.optimizer.iterations.numpy()) == 6           # continued, not restarted
    assert ram_probes.GlimpseStore(resumed.run_dir).epochs() == [1, 2]
    test = resumed.summary["test"]
    assert 0 <= test["accuracy"] <= 1 and 0 <= test["random_policy_accuracy"] <= 1
    assert set(task_profile("ram").keys()) >= {"loss", "accuracy", "reward"}


def test_predict_prints_the_class_and_the_fixations(stopped_run, capsys):
    from cnnstudio.cli import main

    image = load_dataset(DatasetConfig("mnist-translated", {"canvas": 32, "limit": 96})).test.x[0]
    path = stopped_run.run_dir.parent / "digit.png"
    cv2.imwrite(str(path), image[..., 0])
    assert main(["predict", str(stopped_run.run_dir), str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)[0]
    assert out["class"] in [str(i) for i in range(10)]
    assert len(out["fixations"]) == 2 and out["fixations"][0] == [16, 16]


@pytest.mark.parametrize("options, message", [
    ({"glimpses": 40}, "ram: glimpses must be an integer between 1 and 16, got 40"),
    ({"patch": 40}, "patch 40 is larger than the 32×32 images"),
    ({"patch_net": "cnn"}, "ram: patch_net must be one of dense, conv, got 'cnn'"),
])
def test_bad_ram_options_get_one_clear_message_before_any_folder(tmp_path, options, message):
    with pytest.raises(StudioError, match=message):
        engine.run(tiny(**options), runs_root=tmp_path)
    assert not any(tmp_path.iterdir())
    with pytest.raises(StudioError):
        engine.run(tiny(std=0.0), runs_root=tmp_path)


@pytest.mark.slow
def test_a_conv_patch_pathway_trains_saves_and_reloads(tmp_path):
    from cnnstudio.core.registry import ARCHITECTURES

    result = engine.run(tiny(epochs=1, patch_net="conv"), runs_root=tmp_path)
    assert result.status == "finished"
    trained = load_model_file(result.run_dir / "model.keras")
    assert trained.get_config()["patch_net"] == "conv"
    assert {"patch_conv1", "patch_conv2"} <= {w.path.split("/")[-2] for w in trained.weights}
    # A fresh conv RAM's answers survive the .keras round trip exactly.
    model = ARCHITECTURES.get("ram").build((32, 32, 1), 10, {"glimpses": 2, "patch": 8,
                                                             "scales": 2, "hidden": 16,
                                                             "patch_net": "conv"})
    images = load_dataset(DatasetConfig("mnist-translated", {"canvas": 32, "limit": 96})).test.x
    model.save(tmp_path / "conv_ram.keras")
    again = load_model_file(tmp_path / "conv_ram.keras")
    np.testing.assert_array_equal(np.asarray(model(images[:4])), np.asarray(again(images[:4])))
