"""The GAN family: probes with known answers, and gan-mlp / dcgan through the engine
(per-epoch grids, live grids, stop then resume with both optimizers, seeds repeat)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.datasets import dataset_config
from cnnstudio.core.errors import ModelError, StudioError
from cnnstudio.core.families.generative import gan_probes as gp
from cnnstudio.core.families.profile import task_profile
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.registry import ARCHITECTURES, TASKS
from cnnstudio.core.training import engine
from cnnstudio.core.training.control import RunControl
from cnnstudio.core.training.events import EpochEnd, ProbeReady
from cnnstudio.core.training.rundir import RunDir

pytest.importorskip("tensorflow")


def tiny(epochs=2, seed=3, model="gan-mlp", options=None) -> RunConfig:
    # digits at 8×8: 1,437 training images, 6 batches of 256 per epoch.
    return RunConfig(DatasetConfig("digits", {}),
                     ModelConfig(model, options or {"latent_size": 8, "hidden_units": 16}),
                     TrainConfig(epochs=epochs, batch_size=256, learning_rate=2e-3, seed=seed,
                                 validation_split=0.0, steps_per_call=1))


# -- numpy probes ------------------------------------------------------------------------------
def test_slerp_endpoints_are_the_picked_points_and_the_path_stays_on_the_sphere():
    z = gp.fixed_latent(0, 64, 100)
    path = gp.slerp(z[3], z[17], steps=10)
    assert path.shape == (10, 100)
    assert np.array_equal(path[0], z[3]) and np.array_equal(path[-1], z[17])
    # Two orthogonal unit vectors: the midpoint is their normalised sum, norm 1.
    mid = gp.slerp(np.array([1.0, 0.0]), np.array([0.0, 1.0]), steps=3)[1]
    np.testing.assert_allclose(mid, [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
    with pytest.raises(StudioError, match="at least 2 steps"):
        gp.slerp(z[0], z[1], steps=1)


def test_fixed_latent_repeats_for_a_seed():
    assert np.array_equal(gp.fixed_latent(7, 64, 10), gp.fixed_latent(7, 64, 10))
    assert not np.array_equal(gp.fixed_latent(7, 64, 10), gp.fixed_latent(8, 64, 10))


def test_tile_grid_places_image_i_at_row_i_div_8_column_i_mod_8():
    images = np.arange(64, dtype=np.uint8).reshape(64, 1, 1, 1).repeat(3, 1).repeat(3, 2)
    grid = gp.tile_grid(images, gap=1, background=255)
    assert grid.shape == (8 * 3 + 7, 8 * 3 + 7, 1) and grid.dtype == np.uint8
    assert np.all(grid[0:3, 0:3] == 0)
    assert np.all(grid[4:7, 8:11] == 10)             # row 1, column 2 → image 10
    assert np.all(grid[28:31, 28:31] == 63)
    assert grid[3, 0, 0] == 255 and grid[0, 3, 0] == 255          # the gaps
    assert gp.cell_at(9.5, 5.0, (3, 3)) == 10
    assert gp.cell_at(3.5, 1.0, (3, 3)) is None                  # on a gap
    assert gp.tile_grid(np.zeros((10, 4, 4, 3), np.uint8)).shape == (3 * 4 + 2, 4 * 4 + 3, 3)


def test_diversity_is_the_mean_pairwise_rms_distance_and_collapse_needs_a_fall():
    assert gp.diversity(np.full((5, 4, 4, 1), 77, np.uint8)) == 0.0
    pair = np.stack([np.zeros((4, 4, 1), np.uint8), np.full((4, 4, 1), 255, np.uint8)])
    assert gp.diversity(pair) == pytest.approx(1.0)
    three = np.stack([np.zeros((2, 2, 1)), np.zeros((2, 2, 1)), np.full((2, 2, 1), 255)])
    assert gp.diversity(three.astype(np.uint8)) == pytest.approx(2 / 3)
    assert gp.mode_collapse(0.10, 0.36, epoch=5).startswith("Possible mode collapse")
    assert gp.mode_collapse(0.10, 0.36, epoch=2) is None        # G's first blobs
    assert gp.mode_collapse(0.20, 0.36, epoch=5) is None        # 56 % of real: fine


def test_gif_export_writes_one_frame_per_stored_epoch(tmp_path):
    store = gp.GridStore(tmp_path)
    store.folder.mkdir()
    for epoch in (1, 2, 3, 4):
        images = np.full((64, 6, 6, 1), 60 * epoch, np.uint8)
        store.write(gp.GridFrame(epoch, images, 0.0))
    count = gp.export_gif(tmp_path, tmp_path / "grids.gif", scale=2)
    with Image.open(tmp_path / "grids.gif") as gif:
        assert count == 4 and gif.n_frames == 4
        assert gif.size == (2 * (8 * 6 + 7), 2 * (8 * 6 + 7))
    with pytest.raises(StudioError, match="no stored sample grids"):
        gp.export_gif(tmp_path / "empty", tmp_path / "x.gif")


# -- models --------------------------------------------------------------------------------------
def test_profile_plots_the_four_gan_curves():
    profile = task_profile("gan")
    assert profile.keys() == ["d_loss", "g_loss", "d_real", "d_fake"]
    assert profile.prediction == "discriminate"
    assert profile.plots[1].y_range == (0, 1)
    assert ARCHITECTURES.get("dcgan").task == ARCHITECTURES.get("gan-mlp").task == "gan"


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_dcgan_draws_images_of_the_dataset_shape(shape):
    model = TASKS.get("gan").build_model(ARCHITECTURES.get("dcgan"), shape, 10,
                                         {"filters": 8, "latent_size": 16}, None)
    images = gp.generate(model, 5, seed=1)
    assert images.shape == (5, *shape) and images.dtype == np.uint8
    assert np.array_equal(images, gp.generate(model, 5, seed=1))
    assert not np.array_equal(images, gp.generate(model, 5, seed=2))
    scores = gp.realness(model, np.zeros((3, 40, 40, 3), np.uint8))   # any size is fitted
    assert scores.shape == (3,) and np.all((scores > 0) & (scores < 1))
    assert gp.class_probabilities(model, images) is None         # no class logits


def test_weight_average_warms_up_then_keeps_its_decay():
    from cnnstudio.core.families.generative.gan_models import K, average_into

    average, value = K.Variable(np.zeros(2, np.float32)), K.Variable(np.full(2, 10.0, np.float32))
    average_into([average], [value], 0.9, step=0)      # decay min(0.9, 1/10) = 0.1
    assert np.allclose(average.numpy(), 9.0)
    average.assign(np.zeros(2, np.float32))
    average_into([average], [value], 0.9, step=10**6)  # warm-up over: the decay itself
    assert np.allclose(average.numpy(), 1.0)


def test_samples_come_from_the_weight_average_only_when_asked():
    build = TASKS.get("gan").build_model
    plain = build(ARCHITECTURES.get("gan-mlp"), (8, 8, 1), 10,
                  {"latent_size": 4, "hidden_units": 8, "ema": 0}, None)
    assert plain.generator_ema is None
    averaged = build(ARCHITECTURES.get("gan-mlp"), (8, 8, 1), 10,
                     {"latent_size": 4, "hidden_units": 8}, None)
    assert averaged.ema == 0.999                       # the default
    z = np.ones((2, 4), np.float32)
    averaged.generator_ema.set_weights([w * 0.5 for w in averaged.generator.get_weights()])
    expected = np.asarray(averaged.generator_ema(z, training=False))
    assert np.allclose(averaged.generate(z), expected)
    assert not np.allclose(np.asarray(averaged.generator(z, training=False)), expected)
    with pytest.raises(ModelError, match="gan-mlp: ema must be a number between 0 and 0.9999, got 1.0"):
        build(ARCHITECTURES.get("gan-mlp"), (8, 8, 1), 10, {"ema": 1.0}, None)


def test_dcgan_rejects_sides_it_cannot_upsample_to():
    with pytest.raises(ModelError, match="divisible by 4"):
        TASKS.get("gan").build_model(ARCHITECTURES.get("dcgan"), (30, 30, 1), 10, {}, None)
    with pytest.raises(ModelError, match="gan-mlp: latent_size must be an integer between 1 and 4,096, got 0"):
        TASKS.get("gan").build_model(ARCHITECTURES.get("gan-mlp"), (8, 8, 1), 10,
                                     {"latent_size": 0}, None)


# -- through the engine -------------------------------------------------------------------------
@pytest.mark.slow
def test_a_tiny_run_writes_a_grid_every_epoch_and_live_grids_between(runs_root, monkeypatch):
    monkeypatch.setattr(TASKS.get("gan"), "live_every", 2)
    events = []
    result = engine.run(tiny(epochs=2), runs_root=runs_root, sink=events.append)
    assert result.status == "finished"
    logs = [e.logs for e in events if isinstance(e, EpochEnd)]
    assert len(logs) == 2 and set(logs[0]) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(0 <= log["d_real"] <= 1 and 0 <= log["d_fake"] <= 1 for log in logs)
    store = gp.GridStore(result.run_dir)
    assert store.epochs() == [1, 2]
    frame = store.load(2)
    assert frame.images.shape == (64, 8, 8, 1) and frame.images.dtype == np.uint8
    assert store.latent().shape == (64, 8)
    assert store.meta()["real_diversity"] > 0.1
    grids = [e for e in events if isinstance(e, ProbeReady) and e.name == "gan-grid"]
    at_epoch_end = [e.payload for e in grids if e.payload.step is None]
    live = [e.payload for e in grids if e.payload.step is not None]
    assert [f.epoch for f in at_epoch_end] == [1, 2]
    assert [(f.epoch, f.step) for f in live] == [(1, 2), (1, 4), (2, 2), (2, 4)]  # 6 steps
    # The epoch-end grid sent live is the one stored on disk.
    assert np.array_equal(at_epoch_end[-1].images, frame.images)
    assert set(result.summary["test"]) >= {"d_real_test", "d_fake_test", "diversity"}


@pytest.mark.slow
def test_stop_then_resume_restores_both_optimizers(runs_root):
    control = RunControl()

    def stop_after_first(model, epoch):
        if epoch == 1:
            control.stop()

    stopped = engine.run(tiny(epochs=3), runs_root=runs_root, control=control,
                         epoch_hooks=[stop_after_first])
    assert stopped.status == "stopped"
    folder = RunDir.open(stopped.run_dir)
    saved = load_model_file(folder.last_checkpoint()[1])
    assert folder.last_checkpoint()[0] == 1
    assert int(saved.optimizer.iterations.numpy()) == 6          # D's: one epoch, 6 steps
    assert int(saved.g_optimizer.iterations.numpy()) == 6        # G's too
    moments = [v.numpy() for v in saved.g_optimizer.variables[2:]]
    assert any(np.abs(m).sum() > 0 for m in moments)             # Adam's slots, not zeros
    # G's weight average is saved with it: its own values, not a copy of G's.
    averaged, current = saved.generator_ema.get_weights(), saved.generator.get_weights()
    assert len(averaged) == len(current)
    assert not all(np.allclose(a, c) for a, c in zip(averaged, current, strict=True))

    resumed = engine.resume(stopped.run_dir)
    assert resumed.status == "finished"
    final = load_model_file(resumed.run_dir / "model.keras")
    # 3 epochs × 6 steps: the resumed run continued both counts instead of restarting them.
    assert int(final.optimizer.iterations.numpy()) == 18
    assert int(final.g_optimizer.iterations.numpy()) == 18
    assert gp.GridStore(resumed.run_dir).epochs() == [1, 2, 3]


@pytest.mark.slow
def test_the_same_seed_repeats_a_cpu_run(runs_root):
    def once():
        events = []
        result = engine.run(tiny(epochs=1, seed=11), runs_root=runs_root, sink=events.append)
        logs = [e.logs for e in events if isinstance(e, EpochEnd)][0]
        return logs, gp.GridStore(result.run_dir).load(1).images

    (logs_a, grid_a), (logs_b, grid_b) = once(), once()
    assert logs_a == logs_b
    assert np.array_equal(grid_a, grid_b)


@pytest.mark.slow
def test_a_folder_dataset_trains_on_its_images(tmp_path, runs_root):
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (tmp_path / "imgs" / name).mkdir(parents=True)
        for i in range(12):
            Image.fromarray(rng.integers(0, 255, (10, 10, 3), dtype=np.uint8)).save(
                tmp_path / "imgs" / name / f"{i}.png")
    config = RunConfig(dataset_config(str(tmp_path / "imgs"), image_size=8),
                       ModelConfig("gan-mlp", {"latent_size": 4, "hidden_units": 8}),
                       TrainConfig(epochs=1, batch_size=8, validation_split=0.0))
    events = []
    result = engine.run(config, runs_root=runs_root, sink=events.append)
    assert result.status == "finished" and result.summary["epochs_done"] == 1
    started = next(e for e in events if type(e).__name__ == "RunStarted")
    assert started.num_train > 0 and started.steps_per_epoch == -(-started.num_train // 8)
    assert gp.GridStore(result.run_dir).load(1).images.shape == (64, 8, 8, 3)


# -- dcgan's discriminator options: d_filters, d_kernel, r1 -------------------------------------
def test_dcgan_sizes_its_discriminator_apart_from_its_generator():
    build = TASKS.get("gan").build_model
    model = build(ARCHITECTURES.get("dcgan"), (28, 28, 1), 10,
                  {"filters": 8, "latent_size": 16, "d_filters": 12, "d_kernel": 5}, None)
    convs = [la for la in model.discriminator.layers if type(la).__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size) for c in convs] == [(12, (5, 5)), (24, (5, 5))]
    assert model.generator.layers[-1].input.shape[-1] == 8       # G's last: still filters
    plain = build(ARCHITECTURES.get("dcgan"), (32, 32, 3), 10, {"filters": 8}, None)
    convs = [la for la in plain.discriminator.layers if type(la).__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size) for c in convs] == [(8, (4, 4)), (16, (4, 4)),
                                                          (32, (4, 4))]
    assert plain.r1 == 0.0 and plain.d_width == 0
    for options, message in (({"r1": -1}, "r1 must be a number between 0 and 1,000, got -1"),
                             ({"r1": True}, "r1 must be a number between 0 and 1,000"),
                             ({"d_kernel": 1}, "d_kernel must be an integer between 2 and 7"),
                             ({"d_filters": -8}, "d_filters must be an integer between 0 and")):
        with pytest.raises(ModelError, match=message):
            build(ARCHITECTURES.get("dcgan"), (28, 28, 1), 10, options, None)


def test_r1_gradient_norm_of_a_linear_discriminator_is_its_squared_weights():
    import tensorflow as tf

    from cnnstudio.core.families.generative.gan_models import K
    from cnnstudio.core.training.gradients_tf import value_and_grads, with_input_gradient

    D = K.Sequential([K.Input((2, 2, 1)), K.layers.Flatten(), K.layers.Dense(1)])
    D.layers[-1].set_weights([np.array([[1.0], [2.0], [0.0], [-2.0]], np.float32),
                              np.zeros(1, np.float32)])
    x = tf.constant(np.random.default_rng(0).normal(size=(3, 2, 2, 1)), tf.float32)
    out, norms = with_input_gradient(D, x)
    np.testing.assert_allclose(norms.numpy(), [9.0, 9.0, 9.0], rtol=1e-6)   # 1 + 4 + 0 + 4
    # The penalty is differentiable w.r.t. the weights: d/dw (‖w‖²/2) = w.
    _, _, grads = value_and_grads(lambda: (0.5 * tf.reduce_mean(with_input_gradient(D, x)[1]),
                                           None), D.trainable_variables)
    np.testing.assert_allclose(grads[0].numpy().ravel(), [1.0, 2.0, 0.0, -2.0], rtol=1e-6)


@pytest.mark.slow
def test_a_dcgan_with_r1_trains_saves_and_reloads(tmp_path):
    from cnnstudio.core.families.generative.gan_models import Gan, K

    model = TASKS.get("gan").build_model(
        ARCHITECTURES.get("dcgan"), (12, 12, 1), 10,
        {"filters": 4, "latent_size": 8, "d_filters": 6, "d_kernel": 5, "r1": 2.0}, None)
    model.compile()
    x = np.random.default_rng(0).integers(0, 255, (16, 12, 12, 1)).astype(np.uint8)
    logs = model.fit(x, batch_size=8, epochs=1, verbose=0).history
    assert np.isfinite(logs["d_loss"][-1]) and np.isfinite(logs["g_loss"][-1])
    model.save(tmp_path / "m.keras")
    again = load_model_file(tmp_path / "m.keras")
    assert (again.r1, again.d_width, again.d_kernel) == (2.0, 6, 5)
    # A model saved before these options existed has none of their keys: built as it was.
    old = {k: v for k, v in model.get_config().items() if k not in ("r1", "d_width", "d_kernel")}
    legacy = Gan.from_config(old)
    convs = [la for la in legacy.discriminator.layers if isinstance(la, K.layers.Conv2D)]
    assert legacy.r1 == 0.0 and [(c.filters, c.kernel_size) for c in convs] == [(4, (4, 4)),
                                                                                (8, (4, 4))]


def test_a_grid_png_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    import errno

    from PIL import Image

    grid = np.zeros((8, 8, 1), np.uint8)
    out = gp.save_png(grid, tmp_path / "grid.png")
    assert out.read_bytes().startswith(b"\x89PNG") and [p.name for p in tmp_path.iterdir()] \
        == ["grid.png"]

    def full_disk(self, fp, *args, **kwargs):
        open(fp, "wb").write(b"\x89PNG half")              # a few bytes, then no space
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full_disk)
    with pytest.raises(OSError):
        gp.save_png(grid, tmp_path / "second.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]   # no 0-byte leftover
