"""The GAN console and the "discriminate" prediction view, on a tiny real GAN run."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.families.generative import gan_probes as gp
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.training import engine
from cnnstudio.core.training.events import EpochEnd, ProbeReady
from cnnstudio.gui.families.generative.gan_console import GanConsole
from cnnstudio.gui.families.generative.gan_prediction_view import GanPredictionView
from cnnstudio.gui.registry import PANELS, PREDICTION_VIEWS

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("gan-runs")
    config = RunConfig(DatasetConfig("digits", {}),
                       ModelConfig("gan-mlp", {"latent_size": 8, "hidden_units": 16}),
                       TrainConfig(epochs=3, batch_size=256, learning_rate=3e-3,
                                   validation_split=0.0))
    return engine.run(config, runs_root=root).run_dir


@pytest.fixture
def console(qtbot):
    panel = GanConsole(SimpleNamespace(bridge=None))
    qtbot.addWidget(panel)
    yield panel
    panel.close_panel()


def test_the_console_serves_gan_and_ssgan_and_the_dock_discriminates():
    assert PANELS.get("gan-console").tasks == frozenset({"gan", "ssgan"})
    assert PREDICTION_VIEWS.get("discriminate") is GanPredictionView


@pytest.mark.slow
def test_the_console_shows_the_last_grid_and_the_slider_replays_epochs(console, gan_run):
    console.open_run(gan_run)
    store = gp.GridStore(gan_run)
    assert console.epochs == [1, 2, 3] and console.frame.epoch == 3
    assert console.slider.maximum() == 2 and console.slider.value() == 2
    # 8 × 8 tiles of 8×8 pixels with 1-pixel gaps, drawn in grey.
    assert console.grid.image.shape == (8 * 8 + 7, 8 * 8 + 7, 3)
    last = console.grid.image.copy()
    console.slider.setValue(0)
    assert console.frame.epoch == 1
    assert np.array_equal(console.frame.images, store.load(1).images)
    assert not np.array_equal(console.grid.image, last)
    assert "1  (of 3)" in console.epoch_label.text()
    # Tile 9 (row 1, column 1) shows sample 9's pixels exactly, in grey.
    tile9 = console.grid.image[9:17, 9:17]
    assert np.array_equal(tile9, np.repeat(store.load(1).images[9], 3, axis=-1))
    assert console.diversity_label.text().startswith("Diversity")


def test_export_animation_writes_one_gif_frame_per_epoch(console, gan_run, tmp_path):
    console.open_run(gan_run)
    assert console.export_button.isEnabled()
    assert console.export_animation(tmp_path / "run.gif") == 3
    with Image.open(tmp_path / "run.gif") as gif:
        assert gif.n_frames == 3
    assert "Wrote 3 frames" in console.status.text()


def test_two_clicked_cells_give_a_ten_step_path_between_them(console, gan_run, qtbot):
    console.open_run(gan_run)
    grid = gp.GridStore(gan_run).load(3).images         # drawn by the final weights
    with qtbot.waitSignal(console.interpolated, timeout=60_000):
        console.pick(5)
        console.pick(42)
    strip = console.strip_images
    assert strip.shape == (10, 8, 8, 1)
    assert np.abs(strip[0].astype(int) - grid[5]).max() <= 1
    assert np.abs(strip[-1].astype(int) - grid[42]).max() <= 1
    assert console.strip.image.shape == (8, 10 * 8 + 9, 3)


@pytest.mark.slow
def test_live_grids_and_the_mode_collapse_warning(console, gan_run):
    console.open_run(gan_run)
    images = np.full((64, 8, 8, 1), 120, np.uint8)     # every sample the same image
    console.probe_ready(ProbeReady("gan-grid", 5, "", gp.GridFrame(5, images, 0.0, step=200)))
    assert console.frame.step == 200 and "(live)" in console.epoch_label.text()
    assert console.warning.isVisible() or not console.isVisible()
    assert console.warning.text().startswith("Possible mode collapse")
    healthy = gp.GridStore(gan_run).load(3)
    console.probe_ready(ProbeReady("gan-grid", 6, "", gp.GridFrame(
        6, healthy.images, console.real_diversity, step=10)))
    assert console.warning.text() == ""
    console.probe_ready(ProbeReady("epoch", 6, "", None))    # a classifier's probe: ignored
    assert console.frame.epoch == 6


@pytest.mark.slow
def test_new_epochs_are_followed_unless_the_user_scrubbed_back(console, gan_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(gan_run, run)
    console.run_started(SimpleNamespace(run_dir=str(run)))
    store = gp.GridStore(run)
    frame = gp.GridFrame(4, store.load(1).images, 0.3)
    frame.path = str(store.write(frame))
    console.probe_ready(ProbeReady("gan-grid", 4, frame.path, frame))
    assert console.epochs == [1, 2, 3, 4] and console.slider.value() == 3
    assert console.frame.epoch == 4
    console.slider.setValue(0)                           # the user looks back at epoch 1
    frame5 = gp.GridFrame(5, store.load(2).images, 0.3)
    frame5.path = str(store.write(frame5))
    console.probe_ready(ProbeReady("gan-grid", 5, frame5.path, frame5))
    assert console.epochs[-1] == 5 and console.frame.epoch == 1 and console.slider.value() == 0


@pytest.mark.slow
def test_a_semi_supervised_run_shows_labels_accuracy_and_the_labels_alone_run(
        console, gan_run, tmp_path):
    run = tmp_path / "runs" / "b-ssgan"
    shutil.copytree(gan_run, run)
    (run / "labels.json").write_text(json.dumps({"labels": 100, "labelled_per_class": 10}))
    alone = tmp_path / "runs" / "a-supervised"
    alone.mkdir()
    shutil.copy(run / "config.json", alone / "config.json")
    (alone / "evaluation.json").write_text(json.dumps(
        {"supervised_only": True, "labels": 100, "accuracy": 0.62}))
    console.open_run(run)
    console.epoch_done(EpochEnd(1, 3, {"val_accuracy": 0.875}, 1.0, 10.0))
    text = console.ssgan_label.text()
    assert "100 labels" in text and "10 per class" in text
    assert "1: 87.5%" in text
    assert "labels alone: 62.0% (a-supervised)" in text


@pytest.mark.slow
def test_the_prediction_view_generates_by_seed_and_scores_a_dropped_image(qtbot, gan_run):
    view = GanPredictionView(SimpleNamespace(bridge=None))
    qtbot.addWidget(view)
    view.set_run_dir(gan_run)
    view.seed.setValue(7)
    with qtbot.waitSignal(view.generated, timeout=60_000):
        view.generate()
    model = load_model_file(gan_run / "model.keras")
    assert np.array_equal(view.samples, gp.generate(model, 64, seed=7))
    with qtbot.waitSignal(view.judged, timeout=60_000):
        view.predict_image(np.zeros((20, 20, 3), np.uint8), "black.png")
    assert 0 < view.verdict["real"] < 1 and "class" not in view.verdict
    assert "black.png" in view.result.text() and "D says real" in view.result.text()
    view.close_panel()


@pytest.mark.slow
def test_the_studio_shows_the_gan_console_and_hides_the_classifier_tabs(studio):
    studio.show_family("dcgan")
    titles = studio.tabs.tab_titles()
    assert "GAN console" in titles
    assert not {"Confusion", "Errors", "Grad-CAM"} & set(titles)
    assert [p.spec.title for p in studio.plots.plots] == ["Losses", "Discriminator outputs"]
    assert studio.prediction.kind == "discriminate"
