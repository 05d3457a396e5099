"""pix2pix: the paired datasets and their edge operator (known pixels), the model's numpy API,
and tiny runs through the engine (probes every epoch, stop then resume with both optimizers,
evaluation, unpaired data refused, the L1-only baseline)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.generative import pix2pix_probes as pp
from cnnstudio.core.families.generative import translation_data as td
from cnnstudio.core.families.profile import task_profile
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.registry import ARCHITECTURES, TASKS
from cnnstudio.core.training import engine
from cnnstudio.core.training.control import RunControl
from cnnstudio.core.training.events import EpochEnd, ProbeReady
from cnnstudio.core.training.rundir import RunDir

pytest.importorskip("tensorflow")


def tiny(epochs=2, steps_per_call=1, options=None, dataset="edges2shapes") -> RunConfig:
    # 32×32 scenes, 40 pairs: 3 batches of 16 an epoch (the last one short).
    data = {"size": 32, "count": 40} if dataset == "edges2shapes" else {"size": 16, "count": 40}
    return RunConfig(DatasetConfig(dataset, data),
                     ModelConfig("pix2pix", options or {"filters": 4}),
                     TrainConfig(epochs=epochs, batch_size=16, learning_rate=2e-4, seed=5,
                                 validation_split=0.0, steps_per_call=steps_per_call))


# -- data -------------------------------------------------------------------------------------------
def test_the_edges_of_a_hand_drawn_square_are_a_two_pixel_ring_on_its_border():
    image = np.zeros((32, 32, 3), np.uint8)
    image[8:24, 8:24] = (200, 120, 40)                 # grey ≈ 135: well over the threshold
    edges = td.edges_of(image)
    expected = np.zeros((32, 32), np.uint8)
    expected[7:25, 7:25] = 255                         # one pixel outside the border …
    expected[9:23, 9:23] = 0                           # … and one inside it
    assert edges.shape == (32, 32, 1) and edges.dtype == np.uint8
    assert np.array_equal(edges[:, :, 0], expected)
    # A faint square (grey step under the threshold) leaves no edge; size fits the picture.
    faint = np.zeros((32, 32), np.uint8)
    faint[8:24, 8:24] = td.EDGE_THRESHOLD - 1
    assert not td.edges_of(faint).any()
    assert td.edges_of(image, 16).shape == (16, 16, 1)


def test_edges2shapes_pairs_each_scene_with_its_edges_and_repeats_for_a_seed():
    data = load_dataset(DatasetConfig("edges2shapes", {"size": 32, "count": 12, "seed": 3}))
    assert isinstance(data, td.PairedDataset) and data.class_names == ["pair"]
    assert data.train.x.shape == (12, 32, 32, 1) and data.train_targets.shape == (12, 32, 32, 3)
    assert data.test.x.shape == (td.SHAPES_TEST_COUNT, 32, 32, 1)
    assert data.input_shape == (32, 32, 1) and data.target_shape == (32, 32, 3)
    assert not data.train.y.any()
    for edges, scene in zip(data.train.x, data.train_targets, strict=True):
        assert np.array_equal(edges, td.edges_of(scene))
        assert edges.any()                             # every scene has a shape
    again = load_dataset(DatasetConfig("edges2shapes", {"size": 32, "count": 12, "seed": 3}))
    assert np.array_equal(again.train_targets, data.train_targets)
    other = load_dataset(DatasetConfig("edges2shapes", {"size": 32, "count": 12, "seed": 4}))
    assert not np.array_equal(other.train_targets, data.train_targets)
    assert data.info()["paired"]["target_shape"] == [32, 32, 3]


def test_edges2digits_outlines_mnist_digits():
    data = load_dataset(DatasetConfig("edges2digits", {"count": 30}))
    assert data.train.x.shape == (30, 32, 32, 1) and data.train_targets.shape == (30, 32, 32, 1)
    assert len(data.test) == 500
    assert np.array_equal(data.test.x[0], td.edges_of(data.test_targets[0]))
    with pytest.raises(DataError, match="count must be an integer between 1 and 4,500"):
        load_dataset(DatasetConfig("edges2digits", {"count": 5000}))


def test_sharpness_is_the_laplacians_variance_and_blur_lowers_it():
    flat = np.full((2, 8, 8, 3), 90, np.uint8)
    assert pp.sharpness(flat) == 0.0
    dot = np.zeros((1, 5, 5, 1), np.uint8)
    dot[0, 2, 2, 0] = 255                              # Laplacian: −4 at the dot, 1 beside it
    lap = np.zeros((5, 5))
    lap[2, 2], lap[1, 2], lap[3, 2], lap[2, 1], lap[2, 3] = -4, 1, 1, 1, 1
    # OpenCV reflects the border (101): the 5 × 5 image holds the whole stencil.
    assert pp.sharpness(dot) == pytest.approx(np.var(lap))
    import cv2

    scene = td.draw_scene(np.random.default_rng(0), 64)
    assert pp.sharpness(cv2.GaussianBlur(scene, (5, 5), 2)[None]) < 0.5 * pp.sharpness(scene[None])
    assert pp.mean_l1(np.zeros((1, 2, 2, 1), np.uint8), np.full((1, 2, 2, 1), 51, np.uint8)) == \
        pytest.approx(0.2)


# -- the model ----------------------------------------------------------------------------------
def test_the_model_translates_and_judges_patches_with_numpy_in_and_out():
    task = TASKS.get("pix2pix")
    data = load_dataset(DatasetConfig("edges2shapes", {"size": 32, "count": 4}))
    task.check(data, {}, None)
    model = task.build_model(ARCHITECTURES.get("pix2pix"), data.input_shape, 1,
                             {"filters": 4, "patch_layers": 2}, None)
    assert model.source_shape == (32, 32, 1) and model.target_shape == (32, 32, 3)
    out = model.translate(data.train.x)
    assert out.shape == (4, 32, 32, 3) and out.dtype == np.uint8
    # One RGB picture of another size is fitted to the input first.
    assert model.translate(np.zeros((50, 40, 3), np.uint8)).shape == (1, 32, 32, 3)
    patches = model.patch_realness(data.train.x, out)
    assert patches.shape == (4, 8, 8) and patches.dtype == np.float32
    assert np.all((patches > 0) & (patches < 1))
    y = np.asarray(model(data.train.x[:2]))
    assert y.shape == (2, 32, 32, 3) and np.all(np.abs(y) <= 1)


def test_an_unpaired_dataset_is_refused_with_the_paired_ones_named(runs_root):
    config = RunConfig(DatasetConfig("digits", {}), ModelConfig("pix2pix", {"filters": 4}),
                       TrainConfig(epochs=1, batch_size=16, validation_split=0.0))
    with pytest.raises(DataError, match="pairs; dataset digits has images without targets. "
                                        "Pick a paired dataset: edges2shapes or edges2digits"):
        engine.run(config, runs_root=runs_root)
    assert not list(runs_root.iterdir())              # refused before a run folder exists


# -- through the engine -------------------------------------------------------------------------
# Three steps per call here; one per call in tests/cli/test_translate_cli.py.
@pytest.mark.slow
@pytest.mark.parametrize("steps_per_call", [3])
def test_a_tiny_run_records_the_probe_pairs_every_epoch(runs_root, steps_per_call):
    events = []
    result = engine.run(tiny(steps_per_call=steps_per_call), runs_root=runs_root,
                        sink=events.append)
    assert result.status == "finished", result.summary
    logs = [e.logs for e in events if isinstance(e, EpochEnd)]
    assert len(logs) == 2 and set(logs[0]) >= set(task_profile("pix2pix").keys())
    assert all(0 <= log["d_real"] <= 1 and 0 < log["g_l1"] < 1 for log in logs)
    store = pp.TranslationStore(result.run_dir)
    assert store.epochs() == [1, 2]
    frame = store.read(2)
    assert frame.inputs.shape == (8, 32, 32, 1) and frame.outputs.shape == (8, 32, 32, 3)
    assert frame.targets.shape == (8, 32, 32, 3) and frame.patches.shape == (8, 4, 4)
    assert frame.l1 == pytest.approx(pp.mean_l1(frame.outputs, frame.targets), abs=1e-6)
    sent = [e for e in events if isinstance(e, ProbeReady) and e.name == "translation"]
    assert [e.epoch for e in sent] == [1, 2]
    assert np.array_equal(sent[-1].payload.outputs, frame.outputs)
    assert set(result.summary["test"]) == {"l1_test", "sharpness_test", "target_sharpness"}
    if steps_per_call == 3:
        assert result.summary["steps_per_call"] == 3


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
    assert folder.last_checkpoint()[0] == 1
    saved = load_model_file(folder.last_checkpoint()[1])
    assert int(saved.optimizer.iterations.numpy()) == 3         # D's: one epoch, 3 steps
    assert int(saved.g_optimizer.iterations.numpy()) == 3       # G's too
    assert any(np.abs(v.numpy()).sum() > 0 for v in saved.g_optimizer.variables[2:])
    resumed = engine.resume(stopped.run_dir)
    assert resumed.status == "finished"
    final = load_model_file(resumed.run_dir / "model.keras")
    assert int(final.optimizer.iterations.numpy()) == 9         # continued, not restarted
    assert int(final.g_optimizer.iterations.numpy()) == 9
    assert pp.TranslationStore(resumed.run_dir).epochs() == [1, 2, 3]


@pytest.mark.slow
def test_the_l1_only_baseline_and_edges2digits(runs_root):
    result = engine.run(tiny(epochs=1, options={"filters": 4, "gan_weight": 0.0,
                                                "patch_layers": 1},
                             dataset="edges2digits"), runs_root=runs_root)
    assert result.status == "finished", result.summary
    model = load_model_file(result.run_dir / "model.keras")
    assert model.gan_weight == 0.0 and model.target_shape == (16, 16, 1)
    assert pp.TranslationStore(result.run_dir).read(1).patches.shape == (8, 8, 8)
