"""Chapter 6's convolutional autoencoder: the book's 4×4×8 code, the numpy probes (compression,
PSNR, code map, image search) on known answers, and tiny runs through the engine."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from cnnstudio.core.config import RunConfig
from cnnstudio.core.errors import ModelError, StudioError
from cnnstudio.core.families.generative import autoencoder_probes as probes
from cnnstudio.core.families.profile import task_profile
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.core.training import engine
from cnnstudio.core.training.control import RunControl
from cnnstudio.core.training.events import BatchEnd, EpochEnd, ProbeReady, RunFinished, RunStarted
from cnnstudio.core.training.rundir import RunDir

ARCH = ARCHITECTURES.get("conv-autoencoder")


def conv(k, cin, cout):
    return k * k * cin * cout + cout


def test_the_book_model_squeezes_a_digit_into_a_4x4x8_code():
    model = ARCH.build((28, 28, 1), 10)
    assert model.code_shape == (4, 4, 8)
    assert tuple(model.encoder.output.shape) == (None, 4, 4, 8)
    out = model(np.zeros((2, 28, 28, 1), "float32"))
    assert tuple(out.shape) == (2, 28, 28, 1)
    # Encoder 16-8-8, decoder 8-8-16 (unpadded: 16 → 14), then one sigmoid channel.
    expected = (conv(3, 1, 16) + conv(3, 16, 8) + conv(3, 8, 8)
                + conv(3, 8, 8) + conv(3, 8, 8) + conv(3, 8, 16) + conv(3, 16, 1))
    assert model.count_params() == expected == 4385
    assert tuple(model.decoder.get_layer("dec_conv3").output.shape) == (None, 14, 14, 16)


def test_colour_images_get_an_adapted_code_and_other_sizes_are_trimmed():
    model = ARCH.build((32, 32, 3), 10)
    assert model.code_shape == (4, 4, 32)
    assert tuple(model(np.zeros((1, 32, 32, 3))).shape) == (1, 32, 32, 3)
    assert ARCH.build((28, 28, 1), 10, {"code_channels": 4}).code_shape == (4, 4, 4)
    odd = ARCH.build((12, 12, 1), 10)
    assert odd.code_shape == (2, 2, 8) and tuple(odd(np.zeros((1, 12, 12, 1))).shape)[1:3] == (
        12, 12)


def test_bad_options_say_what_is_wrong():
    with pytest.raises(ModelError, match="noise_factor must be a number between 0 and 1, got 1.5"):
        ARCH.build((28, 28, 1), 10, {"noise_factor": 1.5})
    with pytest.raises(ModelError, match="unknown option 'code_size'"):
        ARCH.build((28, 28, 1), 10, {"code_size": 8})
    with pytest.raises(ModelError, match="at least 8×8"):
        ARCH.build((6, 6, 1), 10)


def test_the_profile_plots_the_reconstruction_loss_and_reconstructs_dropped_images():
    profile = task_profile("autoencoder")
    assert profile.keys() == ["loss"] and profile.plots[0].title == "Reconstruction loss"
    assert (profile.prediction, profile.best_metric, profile.best_mode) == (
        "reconstruct", "val_loss", "min")


def test_registering_the_family_imports_no_keras():
    code = ("import sys, cnnstudio.core.registry as m; m.ARCHITECTURES.get('conv-autoencoder');"
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('keras', 'tensorflow')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_compression_figure_of_the_book_model():
    figure = probes.compression((28, 28, 1), (4, 4, 8))
    assert (figure.input_numbers, figure.code_numbers) == (784, 128)
    assert figure.ratio == pytest.approx(0.16327, abs=1e-5)
    assert "784 numbers → code 4×4×8 = 128 numbers (16.3% of the input, 6.1× smaller)" in \
        figure.text((28, 28, 1), (4, 4, 8))


def test_psnr_on_known_arrays():
    clean = np.zeros((4, 4))
    assert probes.psnr(clean, clean + 0.1) == pytest.approx(20.0)       # mse 0.01
    assert probes.psnr(clean, clean + 0.01) == pytest.approx(40.0)
    assert probes.psnr(np.zeros((2, 2)), np.full((2, 2), 25.5), peak=255) == pytest.approx(20.0)
    assert probes.psnr(clean, clean) == float("inf")
    batch = np.stack([clean + 0.1, clean + 0.01])
    np.testing.assert_allclose(probes.psnr_per_image(np.zeros_like(batch), batch), [20.0, 40.0])
    with pytest.raises(StudioError, match="one shape"):
        probes.psnr(np.zeros(3), np.zeros(4))


def test_noise_is_the_books_recipe_clipped_and_repeatable():
    grey = np.full((2000,), 0.5, np.float32)
    noisy = probes.add_noise(grey, 0.5, seed=3)
    assert noisy.min() == 0.0 and noisy.max() == 1.0                 # clipped, both ends hit
    np.testing.assert_array_equal(noisy, probes.add_noise(grey, 0.5, seed=3))
    inside = noisy[(noisy > 0) & (noisy < 1)] - 0.5
    assert 0.25 < inside.std() < 0.35          # N(0, 0.5²) cut at ±0.5: σ ≈ 0.27


def test_nearest_neighbours_on_hand_made_codes():
    codes = np.array([[0, 0], [1, 0], [0, 2], [3, 4], [-6, 8]], float)
    order, dist = probes.nearest(codes, [0, 0], k=10)
    assert order.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(dist, [0, 1, 2, 5, 10])
    order, dist = probes.nearest(codes, codes[0], k=2, exclude=0)
    assert order.tolist() == [1, 2] and dist.tolist() == [1.0, 2.0]
    with pytest.raises(StudioError, match="the query has 3 numbers, the codes 2"):
        probes.nearest(codes, [0, 0, 0])


def test_precision_at_k_on_hand_made_clusters():
    cluster = np.array([[0, 0], [0, 1], [1, 0]], float)
    codes = np.concatenate([cluster, cluster + 100])
    labels = np.array([0, 0, 0, 1, 1, 1])
    assert probes.precision_at_k(codes, labels, k=2) == 1.0
    # Wrong labels on the far cluster's first point: it and its two neighbours lose one each.
    assert probes.precision_at_k(codes, [0, 0, 0, 0, 1, 1], k=2) == pytest.approx(8 / 12)
    assert probes.precision_at_k(codes, labels, k=2, chunk=2) == 1.0      # chunking agrees
    with pytest.raises(StudioError, match="more than 10 items"):
        probes.precision_at_k(codes, labels)


def test_gallery_precision_searches_another_set():
    gallery = np.array([[0, 0], [0, 1], [10, 10], [10, 11]], float)
    labels = np.array([0, 0, 1, 1])
    assert probes.gallery_precision_at_k([[0, 0.4], [10, 10.4]], [0, 1], gallery, labels, 2) \
        == 1.0
    # The first query's three nearest: two of its class, then one of the far cluster.
    assert probes.gallery_precision_at_k([[0, 0.4]], [0], gallery, labels, 3) == \
        pytest.approx(2 / 3)


def test_pca_map_shape_and_the_axis_of_a_line():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(50, 128))
    points, explained = probes.pca_2d(codes)
    assert points.shape == (50, 2) and explained.shape == (2,) and explained.sum() < 1
    t = np.linspace(-1, 1, 9)
    line = np.stack([3 * t, 4 * t, 0 * t], axis=1) + 7
    points, explained = probes.pca_2d(line)
    np.testing.assert_allclose(points[:, 0], 5 * t, atol=1e-6)           # distance along it
    np.testing.assert_allclose(points[:, 1], 0, atol=1e-6)
    assert explained[0] == pytest.approx(1.0)


def test_the_model_saves_and_loads_safely_with_its_options(tmp_path):
    model = ARCH.build((28, 28, 1), 10, {"denoise": True, "noise_factor": 0.3})
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.random.default_rng(0).integers(0, 255, (3, 28, 28, 1)).astype("float32")
    model.fit(x, batch_size=3, epochs=1, verbose=0)            # one step: optimizer slots exist
    model.save(tmp_path / "ae.keras")
    loaded = load_model_file(tmp_path / "ae.keras")
    assert (loaded.denoise, loaded.noise_factor, loaded.code_shape) == (True, 0.3, (4, 4, 8))
    assert int(loaded.optimizer.iterations.numpy()) == 1
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)
    np.testing.assert_allclose(probes.encode(loaded, x), probes.encode(model, x), atol=1e-6)


def test_train_step_corrupts_only_a_denoisers_inputs():
    x = np.full((2, 28, 28, 1), 128.0, "float32")
    plain, clean = ARCH.build((28, 28, 1), 10)._pair(x)
    np.testing.assert_allclose(np.asarray(plain), x)
    np.testing.assert_allclose(np.asarray(clean), x / 255)
    noisy, clean = ARCH.build((28, 28, 1), 10, {"denoise": True})._pair(x)
    noisy = np.asarray(noisy)
    assert noisy.min() >= 0 and noisy.max() <= 255 and noisy.std() > 40
    np.testing.assert_allclose(np.asarray(clean), x / 255)


def test_reconstruct_gives_the_noisy_and_denoised_versions_for_a_denoiser():
    model = ARCH.build((28, 28, 1), 10, {"denoise": True})
    image = np.zeros((56, 40, 3), np.uint8)          # any size, any channels: fitted first
    out = probes.reconstruct(model, image)
    assert set(out) == {"input", "steps", "code", "reconstruction", "noisy", "denoised"}
    assert out["input"].shape == out["reconstruction"].shape == out["denoised"].shape == (
        28, 28, 1)
    assert out["code"].shape == (4, 4, 8) and out["noisy"].dtype == np.uint8
    assert "noisy" not in probes.reconstruct(ARCH.build((28, 28, 1), 10), image)


def test_a_photo_of_ink_is_brought_to_the_training_digits_form_first():
    from cnnstudio.core.config import DatasetConfig
    from cnnstudio.core.datasets import load_dataset
    from cnnstudio.core.photo_prep import training_stats

    digits = load_dataset(DatasetConfig("mnist-5k")).train.x[:256]     # light on black
    stats = training_stats(digits)
    photo = np.full((90, 120, 3), 230, np.uint8)                        # paper
    photo[30:60, 55:62] = 20                                            # a dark stroke
    model = ARCH.build((28, 28, 1), 10)
    raw = probes.reconstruct(model, photo)
    adapted = probes.reconstruct(model, photo, stats=stats)
    assert raw["steps"] == [] and raw["input"][0, 0, 0] > 200           # as it came: paper
    assert any(step.startswith("inverted") for step in adapted["steps"])
    assert adapted["input"][0, 0, 0] < 30 and adapted["input"].max() > 200   # a light stroke


def tiny_config(epochs=2, denoise=True) -> RunConfig:
    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 16}
    config.model.id, config.model.options = "conv-autoencoder", {"denoise": denoise}
    config.training.epochs, config.training.batch_size = epochs, 64
    config.training.learning_rate = 0.005
    config.training.steps_per_call = 1      # the tests follow each batch
    return config


@pytest.mark.slow
def test_a_tiny_run_writes_probes_codes_and_its_evaluation(runs_root):
    events = []
    result = engine.run(tiny_config(), runs_root=runs_root, sink=events.append)
    assert result.status == "finished"
    losses = [e.logs["loss"] for e in events if isinstance(e, EpochEnd)]
    assert len(losses) == 2 and losses[1] < losses[0]
    ready = [e for e in events if isinstance(e, ProbeReady)]
    assert [(e.name, e.epoch) for e in ready] == [("autoencoder", 1), ("autoencoder", 2)]
    payload = ready[-1].payload
    assert payload["record"].reconstructions.shape == (10, 16, 16, 1)
    assert payload["record"].reconstructions.dtype == np.uint8
    assert payload["noisy"].shape == (10, 16, 16, 1) and payload["code_shape"] == (2, 2, 8)
    assert sorted(payload["labels"].tolist()) == list(range(10))          # one per class
    test = events[-1].test
    assert isinstance(events[-1], RunFinished) and set(test) == {
        "mse", "psnr_db", "noisy_psnr_db", "psnr_gain_db"}
    assert 0 < test["mse"] < 0.2
    assert test["psnr_gain_db"] == pytest.approx(test["psnr_db"] - test["noisy_psnr_db"])
    store = probes.AutoencoderStore(result.run_dir)
    assert store.epochs() == [1, 2]
    saved = store.load(2)
    np.testing.assert_array_equal(saved.reconstructions, payload["record"].reconstructions)
    assert set(store.probes()) == {"images", "labels", "noisy"}
    codes = store.codes()
    assert codes.codes.shape == (360, 32) and codes.images.shape == (360, 16, 16, 1)
    assert np.bincount(codes.labels).tolist() == [36] * 10
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["test"] == test


@pytest.mark.slow
def test_stop_then_resume_continues_the_optimizer_and_the_probes(runs_root):
    control = RunControl()

    def sink(event):
        if isinstance(event, BatchEnd) and event.epoch == 2 and event.step == 3:
            control.stop()

    config = tiny_config(epochs=3, denoise=False)
    result = engine.run(config, runs_root=runs_root, sink=sink, control=control)
    assert result.status == "stopped"
    store = probes.AutoencoderStore(result.run_dir)
    assert store.epochs() == [1]
    events = []
    again = engine.resume(result.run_dir, sink=events.append)
    assert again.status == "finished"
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.resumed and started.initial_epoch == 1
    assert store.epochs() == [1, 2, 3] and "noisy" not in store.probes()
    final = keras().saving.load_model(RunDir(result.run_dir).path / "model.keras",
                                      safe_mode=True)
    assert int(final.optimizer.iterations.numpy()) == 3 * started.steps_per_epoch
    assert store.codes().epoch == 3
