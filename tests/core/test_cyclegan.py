"""CycleGAN (chapter 8): the unpaired datasets, the pool of past fakes and the cycle loss
with known answers; tiny runs through the engine (probes per epoch, evaluation, several
steps per call, stop then resume with all four optimizers and the pools)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.generative import cyclegan_probes as cp
from cnnstudio.core.families.generative import unpaired_data as ud
from cnnstudio.core.families.profile import task_profile
from cnnstudio.core.registry import ARCHITECTURES, TASKS

pytest.importorskip("tensorflow")

LOGS = {"d_a_loss", "d_b_loss", "g_loss", "f_loss", "cycle_a", "cycle_b", "identity"}


def tiny(epochs=2, steps_per_call=1, dataset="digits2thick") -> RunConfig:
    # 48 images per domain, batches of 8: 6 steps an epoch (calls of 3 divide it).
    return RunConfig(DatasetConfig(dataset, {"size": 16, "count": 48}),
                     ModelConfig("cyclegan", {"filters": 4, "pool_size": 20}),
                     TrainConfig(epochs=epochs, batch_size=8, learning_rate=2e-4, seed=1,
                                 validation_split=0.0, steps_per_call=steps_per_call))


# -- datasets ------------------------------------------------------------------------------------
def test_digits2thick_has_two_disjoint_domains_of_grey_and_thick_digits():
    data = load_dataset(DatasetConfig("digits2thick", {"count": 100}))
    assert isinstance(data, ud.UnpairedDataset) and data.input_shape == (32, 32, 3)
    assert data.counts("train") == [100, 100] and data.counts("test") == [250, 250]
    a, b = data.domain("train", 0), data.domain("train", 1)
    assert a.shape == b.shape == (100, 32, 32, 3) and a.dtype == np.uint8
    assert np.all(a[..., 0] == a[..., 2]) and np.all(a[:, 0, 0] == 0)       # grey on black
    corner = b[:, 0, 0].astype(int)              # blue background, jittered by at most 20
    assert np.all(np.abs(corner - ud.THICK_BACKGROUND) <= ud.BACKGROUND_JITTER)
    assert set(np.unique(data.content("train", 0))) == set(range(10))
    assert len(data.train_content) == len(data.train) and data.test_content.min() >= 0
    again = load_dataset(DatasetConfig("digits2thick", {"count": 100}))
    assert np.array_equal(data.train.x, again.train.x)                    # the same seed
    other = load_dataset(DatasetConfig("digits2thick", {"count": 100, "seed": 1}))
    assert not np.array_equal(data.train.x, other.train.x)
    small = load_dataset(DatasetConfig("digits2thick", {"size": 16, "count": 5}))
    assert small.train.x.shape == (10, 16, 16, 3)


def test_the_digit_halves_share_no_image_and_split_every_class_in_two():
    labels = np.repeat(np.arange(10), 7)
    first, second = ud.halves(labels, seed=0)
    assert not set(first) & set(second) and len(first) + len(second) == len(labels)
    assert np.bincount(labels[first]).tolist() == [3] * 10
    assert np.array_equal(ud.halves(labels, 0)[0], first)
    assert not np.array_equal(ud.halves(labels, 1)[0], first)


def test_shapes_filled2outline_outlines_b_and_fills_a():
    import cv2

    data = load_dataset(DatasetConfig("shapes-filled2outline", {"count": 20, "size": 32}))
    assert data.train.x.shape == (40, 32, 32, 3) and data.test.x.shape == (16, 32, 32, 3)
    assert np.all(data.train_content == -1)
    a, b = data.domain("train", 0), data.domain("train", 1)
    for seed in range(6):         # the same draws: the outline is the filled shape's rim
        filled = ud.draw_shape(np.random.default_rng(seed), 64, filled=True)
        outline = ud.draw_shape(np.random.default_rng(seed), 64, filled=False)
        background = filled[0, 0]
        shape_pixels = np.any(filled != background, axis=2)
        rim = np.any(outline != background, axis=2)
        assert rim.sum() < 0.8 * shape_pixels.sum()
        near = cv2.dilate(shape_pixels.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        assert np.all(near[rim])                      # on the filled shape's edge
        centre = tuple(np.argwhere(shape_pixels).mean(axis=0).round().astype(int))
        assert shape_pixels[centre] and not rim[centre]   # hollow inside
    flat = {im.tobytes() for im in a}
    assert not any(im.tobytes() in flat for im in b)
    with pytest.raises(DataError, match="count must be an integer between 1 and"):
        load_dataset(DatasetConfig("shapes-filled2outline", {"count": 0}))


# -- the pool of past fakes ----------------------------------------------------------------------
def test_the_pool_fills_first_then_mixes_half_past_images():
    import tensorflow as tf

    from cnnstudio.core.families.generative.image_pool import ImagePool

    pool = ImagePool(4, (1, 1, 1), seed=3)
    first = np.arange(1, 4, dtype=np.float32).reshape(3, 1, 1, 1)
    assert np.array_equal(pool(first), first) and int(pool.count.numpy()) == 3
    before = pool.images.numpy().ravel()[:3].tolist()
    out = np.asarray(pool(first + 10)).ravel()
    assert out[0] == 11 and int(pool.count.numpy()) == 4        # the last free slot
    # Then each image is returned, or swapped for a stored one: nothing made, nothing lost.
    after = pool.images.numpy().ravel().tolist()
    assert sorted(out.tolist() + after) == sorted(before + [11.0, 11.0, 12.0, 13.0])

    big = ImagePool(50, (1, 1, 1), seed=1)
    step = tf.function(lambda x: big(x))          # as inside a compiled train_step
    past = 0
    for k in range(200):
        batch = np.full((8, 1, 1, 1), 1000 + k, np.float32)
        returned = np.asarray(step(batch)).ravel()
        if k >= 7:                                # 7 × 8 = 56 ≥ 50: full from batch 7 on
            past += int(np.sum(returned != 1000 + k))
    assert past / (193 * 8) == pytest.approx(0.5, abs=0.05)
    assert int(big.count.numpy()) == 50

    off = ImagePool(0, (1, 1, 1))
    assert np.array_equal(off(first), first)


# -- losses --------------------------------------------------------------------------------------
def test_cycle_loss_is_the_mean_absolute_round_trip_error():
    from cnnstudio.core.families.generative.cyclegan_models import cycle_loss

    real = np.zeros((2, 2, 2, 1), np.float32)
    back = np.array([0.5, -0.5, 0, 0, 1, 1, 0, 0], np.float32).reshape(2, 2, 2, 1)
    assert float(cycle_loss(real, back)) == pytest.approx(3.0 / 8)
    assert float(cycle_loss(back, back)) == 0.0
    assert cp.round_trip_l1(np.full((1, 2, 2, 3), 255, np.uint8),
                            np.zeros((1, 2, 2, 3), np.uint8)) == 1.0


def test_a_train_step_logs_the_cycle_and_identity_losses_of_its_networks():
    from cnnstudio.core.families.generative.translation_networks import to_unit

    model = ARCHITECTURES.get("cyclegan").build((16, 16, 3), 2, {"filters": 4})
    model.compile(run_eagerly=True)       # one step: no graph to trace
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (4, 16, 16, 3)).astype(np.uint8) for _ in range(2))
    ua, ub = to_unit(a), to_unit(b)
    G, F = model.g, model.f
    cycle_a = np.mean(np.abs(np.asarray(F(G(ua))) - ua))      # no dropout, instance norm:
    identity = np.mean(np.abs(np.asarray(G(ub)) - ub)) + np.mean(np.abs(np.asarray(F(ua)) - ua))
    logs = model.train_on_batch((a, b), return_dict=True)     # … the same in training
    assert set(logs) == LOGS
    assert logs["cycle_a"] == pytest.approx(cycle_a, rel=1e-4)
    assert logs["identity"] == pytest.approx(identity, rel=1e-4)
    assert [int(o.iterations.numpy()) for o in (model.g_optimizer, model.f_optimizer,
                                                model.d_a_optimizer, model.d_b_optimizer)] \
        == [1, 1, 1, 1]
    translated, back = model.cycle(a[:2], "b2a")
    assert translated.shape == back.shape == (2, 16, 16, 3) and back.dtype == np.uint8
    assert model.translate(np.zeros((20, 20, 3), np.uint8)).shape == (1, 16, 16, 3)


# -- through the engine ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def whole_run(tmp_path_factory):
    """2 epochs, 3 steps per call, never stopped: probed here, and the resume's reference."""
    from cnnstudio.core.training import engine

    events = []
    root = tmp_path_factory.mktemp("runs")
    return engine.run(tiny(steps_per_call=3), runs_root=root, sink=events.append), events


# Three steps per call here; one per call in tests/cli/test_translate_cli.py.
@pytest.mark.slow
@pytest.mark.parametrize("steps_per_call", [3])
def test_a_tiny_run_records_cycle_probes_every_epoch(runs_root, steps_per_call, request):
    from cnnstudio.core.training import engine
    from cnnstudio.core.training.events import EpochEnd, ProbeReady, RunStarted

    if steps_per_call == 3:
        result, events = request.getfixturevalue("whole_run")
    else:
        events = []
        result = engine.run(tiny(steps_per_call=1), runs_root=runs_root, sink=events.append)
    assert result.status == "finished"
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.steps_per_call == steps_per_call and started.steps_per_epoch == 6
    logs = [e.logs for e in events if isinstance(e, EpochEnd)]
    assert len(logs) == 2 and set(logs[0]) >= LOGS
    frames = [e.payload for e in events if isinstance(e, ProbeReady) and e.name == "cycle"]
    assert [f.epoch for f in frames] == [1, 2]
    store = cp.CycleStore(result.run_dir)
    assert store.epochs() == [1, 2]
    frame = store.read(2)
    for name in cp.ARRAYS:
        assert getattr(frame, name).shape == (6, 16, 16, 3)
    assert np.array_equal(frame.g_a, frames[-1].g_a) and 0 <= frame.cycle_l1 <= 1
    assert set(result.summary["test"]) >= {"cycle_l1_test", "cycle_a_test", "cycle_b_test"}


@pytest.mark.slow
def test_stop_then_resume_restores_four_optimizers_and_the_pools(runs_root, whole_run):
    from cnnstudio.core.keras_setup import keras
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.training import engine
    from cnnstudio.core.training.control import RunControl
    from cnnstudio.core.training.rundir import RunDir

    def optimizers(model):
        return [int(o.iterations.numpy()) for o in (model.g_optimizer, model.f_optimizer,
                                                    model.d_a_optimizer, model.d_b_optimizer)]

    control = RunControl()

    def stop_after_first(model, epoch):
        if epoch == 1:
            control.stop()

    cut = engine.run(tiny(steps_per_call=3), runs_root=runs_root, control=control,
                     epoch_hooks=[stop_after_first])
    assert cut.status == "stopped"
    saved = load_model_file(RunDir.open(cut.run_dir).last_checkpoint()[1])
    assert optimizers(saved) == [6, 6, 6, 6]                   # one epoch of 6 steps
    assert int(saved.pool_a.count.numpy()) == 20               # 48 fakes seen, 20 kept
    assert np.abs(saved.pool_b.images.numpy()).sum() > 0
    resumed = engine.resume(cut.run_dir)
    assert resumed.status == "finished"
    final = load_model_file(resumed.run_dir / "model.keras")
    assert optimizers(final) == [12, 12, 12, 12]
    # The very weights of the run never stopped: the pools' buffers and the three extra
    # optimizers' states included (get_weights carries them).
    expected = keras().saving.load_model(whole_run[0].run_dir / "model.keras").get_weights()
    got = final.get_weights()
    assert len(got) == len(expected)
    for x, y in zip(expected, got, strict=True):
        np.testing.assert_array_equal(x, y)


# -- refusals and declarations -------------------------------------------------------------------
def test_a_classification_dataset_is_refused_naming_the_unpaired_ones(runs_root):
    from cnnstudio.core.training import engine

    config = tiny()
    config.dataset = DatasetConfig("digits", {})
    with pytest.raises(DataError, match="digits is not made of two image domains: pick an "
                                        "unpaired dataset \\(digits2thick or "
                                        "shapes-filled2outline\\)"):
        engine.run(config, runs_root=runs_root)
    assert not list(runs_root.iterdir())          # refused before a run folder was made


def test_a_paired_dataset_is_refused_as_pix2pix_data():
    from cnnstudio.core.datasets.base import ArraySplit, Dataset
    from cnnstudio.core.families.generative.cyclegan_task import unpaired

    split = ArraySplit(np.zeros((2, 8, 8, 1), np.uint8), np.zeros(2, np.int32))
    paired = Dataset("edges2x", "pairs", ["pair"], (8, 8, 1), split, split)
    paired.train_targets = split.x
    with pytest.raises(DataError, match="edges2x pairs each input with its target image "
                                        "\\(pix2pix's kind of data\\): pick an unpaired"):
        unpaired(paired)


def test_the_resnet_generator_keeps_the_image_shape():
    from cnnstudio.core.errors import ModelError

    model = ARCHITECTURES.get("cyclegan").build((16, 16, 3), 2,
                                                {"filters": 4, "generator": "resnet"})
    assert model.g.output.shape[1:] == (16, 16, 3)
    names = [layer.name for layer in model.g.layers]
    assert sum(type(la).__name__ == "Add" for la in model.g.layers) == 3   # 3 blocks at 16 px
    assert names[-1] == "g_a2b_output"
    model.compile(run_eagerly=True)
    batch = np.zeros((2, 16, 16, 3), np.uint8)
    logs = model.train_on_batch((batch, batch + 255), return_dict=True)
    assert all(np.isfinite(v) for v in logs.values())
    with pytest.raises(ModelError, match="divisible by 4"):
        ARCHITECTURES.get("cyclegan").build((18, 18, 3), 2, {"generator": "resnet"})


def test_the_profile_declares_the_curves_and_the_prediction():
    profile = task_profile("cyclegan")
    assert set(profile.keys()) == LOGS
    assert profile.prediction == "translate-cycle" and profile.best_mode == "min"
    assert ARCHITECTURES.get("cyclegan").task == "cyclegan"
    assert TASKS.get("cyclegan").name == "cyclegan"
