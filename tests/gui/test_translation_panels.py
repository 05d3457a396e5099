"""The pix2pix and CycleGAN tabs and prediction views, on tiny real runs (book chapter 8)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.families.generative import cyclegan_probes as cp
from cnnstudio.core.families.generative import pix2pix_probes as pp
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.training import engine
from cnnstudio.core.training.events import ProbeReady
from cnnstudio.gui.families.generative.cycle_panel import CyclePanel
from cnnstudio.gui.families.generative.cycle_view import CycleView
from cnnstudio.gui.families.generative.sketch_view import SketchView
from cnnstudio.gui.families.generative.translation_panel import TranslationPanel, patch_overlay
from cnnstudio.gui.registry import PANELS, PREDICTION_VIEWS

pytest.importorskip("tensorflow")
NO_WINDOW = SimpleNamespace(bridge=None)


def _pix2pix(root, gan_weight=1.0):
    config = RunConfig(DatasetConfig("edges2shapes", {"size": 32, "count": 32}),
                       ModelConfig("pix2pix", {"filters": 4, "gan_weight": gan_weight}),
                       TrainConfig(epochs=2, batch_size=16, learning_rate=2e-4, seed=5,
                                   validation_split=0.0))
    return engine.run(config, runs_root=root).run_dir


@pytest.fixture(scope="module")
def pix2pix_runs(tmp_path_factory):
    """(L1-only run, pix2pix run) of the same dataset and seed, side by side."""
    root = tmp_path_factory.mktemp("pix2pix-runs")
    return _pix2pix(root, gan_weight=0.0), _pix2pix(root)


@pytest.fixture(scope="module")
def cycle_run(tmp_path_factory):
    config = RunConfig(DatasetConfig("digits2thick", {"size": 16, "count": 24}),
                       ModelConfig("cyclegan", {"filters": 4, "pool_size": 10}),
                       TrainConfig(epochs=2, batch_size=8, learning_rate=2e-4, seed=1,
                                   validation_split=0.0))
    return engine.run(config, runs_root=tmp_path_factory.mktemp("cycle-runs")).run_dir


def test_the_tabs_and_views_are_registered_for_their_tasks():
    assert PANELS.get("pix2pix").tasks == frozenset({"pix2pix"})
    assert PANELS.get("cyclegan").tasks == frozenset({"cyclegan"})
    assert PREDICTION_VIEWS.get("translate") is SketchView
    assert PREDICTION_VIEWS.get("translate-cycle") is CycleView


@pytest.mark.slow
def test_the_patch_map_is_red_where_fake_and_green_where_real():
    outputs = np.zeros((1, 4, 4, 1), np.uint8)
    patches = np.array([[[0.0, 1.0], [1.0, 0.0]]], np.float32)    # 2×2 patches over 4×4
    rgb = patch_overlay(outputs, patches)[0]
    assert np.allclose(rgb[0, 0], [0.5, 0.0, 0.0]) and np.allclose(rgb[0, 3], [0.0, 0.5, 0.0])
    assert np.allclose(rgb[3, 0], [0.0, 0.5, 0.0]) and np.allclose(rgb[3, 3], [0.5, 0.0, 0.0])


@pytest.mark.slow
def test_the_pix2pix_tab_replays_epochs_beside_the_l1_only_run(qtbot, pix2pix_runs):
    l1_only, pix2pix = pix2pix_runs
    panel = TranslationPanel(NO_WINDOW)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.updated):
        panel.open_run(pix2pix)
    assert panel.replay.epochs == [1, 2] and panel.frame.epoch == 2
    assert panel.columns[:4] == ["input", "L1 only", "output", "target"]
    stored = pp.TranslationStore(pix2pix).read(2)
    assert np.array_equal(panel.frame.outputs, stored.outputs)
    # Rows of 5 tiles of 32 px with 2-px gaps: 5·32 + 4·2 wide.
    assert panel.rows.image.shape[1] == 5 * 32 + 4 * 2
    panel.replay.set_epoch(1)
    assert panel.frame.epoch == 1 and panel.replay.label.text().startswith("1")
    text = panel.figures.text()
    assert "L1 only" in text and "pix2pix" in text and "real targets" in text
    # A live frame is not followed while the user stands on an earlier epoch.
    later = pp.TranslationFrame(3, stored.inputs, stored.outputs, stored.targets,
                                stored.patches, 0.1)
    panel.probe_ready(ProbeReady("translation", 3, None, payload=later))
    assert panel.frame.epoch == 1


@pytest.mark.slow
def test_drawing_on_the_pad_gives_the_models_translation_of_those_pixels(qtbot, pix2pix_runs):
    run = pix2pix_runs[1]
    view = SketchView(NO_WINDOW)
    qtbot.addWidget(view)
    view.set_run_dir(run)
    assert view.pad.side == 32
    with qtbot.waitSignal(view.shown, timeout=60_000):
        view.pad.stroke([(4, 4), (27, 4), (27, 27)])
    drawn = view.pad.image()
    model = load_model_file(run / "model.keras")
    assert view.output.shape == (32, 32, 3)
    assert np.array_equal(view.output, model.translate(drawn[None])[0])
    assert "ms" in view.out_caption.text()
    # A dropped photo becomes its edges on the pad, and is translated.
    photo = np.zeros((64, 64, 3), np.uint8)
    photo[16:48, 16:48] = (220, 60, 60)
    with qtbot.waitSignal(view.shown, timeout=60_000):
        view.predict_image(photo, "square.png")
    assert "resized from 64×64 to 32×32" in view.hint.text()
    assert "turned into its edges" in view.hint.text()
    assert view.pad.image()[8:24, 8].max() == 255 and view.pad.image()[0, 0, 0] == 0
    view.close_panel()


@pytest.mark.slow
def test_the_cycle_tab_shows_both_round_trips_and_the_view_translates_both_ways(
        qtbot, cycle_run):
    panel = CyclePanel(NO_WINDOW)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.updated):
        panel.open_run(cycle_run)
    info = json.loads((cycle_run / "dataset.json").read_text())
    assert panel.names == tuple(info["class_names"])
    assert panel.frame.epoch == 2
    assert np.array_equal(panel.frame.g_a, cp.CycleStore(cycle_run).read(2).g_a)
    assert "cycle error on the test images" in panel.figures.text()
    view = CycleView(NO_WINDOW)
    qtbot.addWidget(view)
    view.set_run_dir(cycle_run)
    with qtbot.waitSignal(view.shown, timeout=60_000):
        view.predict_image(np.full((28, 28), 200, np.uint8), "grey.png")
    assert set(view.result) == {"input", "a2b", "a2b_back", "b2a", "b2a_back"}
    assert view.result["a2b"].shape == (16, 16, 3)
    assert "resized from 28×28 to 16×16" in view.hint.text()
    assert "round-trip error" in view.hint.text()
    model = load_model_file(cycle_run / "model.keras")
    there, back = model.cycle(view.result["input"][None], "a2b")
    assert np.array_equal(view.result["a2b"], there[0])
    view.close_panel()


@pytest.mark.slow
def test_the_studio_shows_the_right_tab_curves_and_dock_for_each(studio):
    studio.show_family("pix2pix")
    assert "pix2pix" in studio.tabs.tab_titles()
    assert studio.prediction.kind == "translate"
    studio.show_family("cyclegan")
    assert "CycleGAN" in studio.tabs.tab_titles() and "pix2pix" not in studio.tabs.tab_titles()
    assert studio.prediction.kind == "translate-cycle"


@pytest.mark.slow
def test_a_sketch_is_translated_by_the_live_run_while_it_is_held(qtbot, studio):
    from PySide6.QtCore import Qt

    from tests.gui.conftest import configure

    config = RunConfig(DatasetConfig("edges2shapes", {"size": 32, "count": 32}),
                       ModelConfig("pix2pix", {"filters": 4}),
                       TrainConfig(epochs=50, batch_size=16, seed=5, validation_split=0.0))
    configure(qtbot, studio, config)
    assert studio.architecture.problem is None          # one "class" (pairs) is fine
    frames = []
    panel = studio.tabs.panels()["pix2pix"]
    panel.updated.connect(lambda: frames.append(panel.frame.epoch))
    qtbot.mouseClick(studio.training.start, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(frames), timeout=60_000)   # epoch 1's probes reached the tab
    studio.bridge.pause()
    qtbot.waitUntil(lambda: studio.bridge.held, timeout=30_000)
    view = studio.prediction.view
    assert isinstance(view, SketchView) and view.pad.side == 32
    with qtbot.waitSignal(view.shown, timeout=30_000):
        view.sketch_demo()
    assert view.output.shape == (32, 32, 3) and view.pad.image().max() == 255
    studio.bridge.stop()
