"""The glimpse panel and the "glimpse" prediction view: scanpaths with one square per scale
per fixation, the epoch and step sliders, random fixations, and a dropped image."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.families.attention import ram_probes
from cnnstudio.core.families.attention.glimpse import glimpse_boxes
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui.families.attention.glimpse_panel import GlimpsePanel
from cnnstudio.gui.families.attention.glimpse_prediction_view import GlimpsePredictionView
from cnnstudio.gui.registry import PANELS, PREDICTION_VIEWS, panels_for

pytest.importorskip("tensorflow")

SENSOR = {"glimpses": 3, "patch": 6, "scales": 2, "hidden": 8}


@pytest.fixture(scope="module")
def ram_run(tmp_path_factory):
    """A RAM run folder: config, dataset.json, an (untrained) model and two epochs of
    stored glimpses with known locations."""
    from cnnstudio.core.registry import ARCHITECTURES

    path = tmp_path_factory.mktemp("ram-run") / "run"
    config = RunConfig(DatasetConfig("mnist-translated", {"canvas": 32}),
                       ModelConfig("ram", SENSOR), TrainConfig(epochs=2))
    folder = RunDir.create(config, path=path)
    folder.write_json("dataset.json", {"class_names": [str(i) for i in range(10)],
                                       "input_shape": [32, 32, 1],
                                       "scene": {"canvas": 32, "digit_side": 28}})
    ARCHITECTURES.get("ram").build((32, 32, 1), 10, SENSOR).save(path / "model.keras")
    store = ram_probes.GlimpseStore(path)
    images = np.zeros((2, 32, 32, 1), np.uint8)
    images[:, 10:20, 12:18] = 255
    store.write_probes(images, np.array([3, 7]))
    learned = np.array([[[0.0, 0.0], [-0.5, 0.5], [0.5, -0.25]]] * 2, np.float32)
    probs = np.full((2, 3, 10), 0.1, np.float32)
    probs[:, :, 3] = [0.2, 0.5, 0.9]
    for epoch in (1, 2):
        store.write(ram_probes.GlimpseFrame(epoch, images, np.array([3, 7]),
                                            learned * epoch / 2, probs, -learned, probs))
    return path


@pytest.fixture
def panel(qtbot):
    widget = GlimpsePanel(SimpleNamespace(bridge=None))
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    yield widget
    widget.close_panel()


def test_the_panel_serves_ram_runs_and_the_dock_shows_glimpses():
    assert PANELS.get("glimpses").tasks == frozenset({"ram"})
    assert [spec.id for spec in panels_for("ram")] == ["glimpses"]
    assert PREDICTION_VIEWS.get("glimpse") is GlimpsePredictionView


@pytest.mark.slow
def test_one_square_per_scale_per_fixation(panel, ram_run):
    panel.open_run(ram_run)
    assert panel.epochs == [1, 2] and panel.frame.epoch == 2
    squares = panel.scanpath.squares()
    assert len(squares) == 3 * 2                      # 3 fixations × 2 scales
    expected = [box for loc in panel.frame.locations[0]
                for box in glimpse_boxes((32, 32), loc, 6, 2, 2)]
    drawn = [(round(s.rect().top()), round(s.rect().left()), round(s.rect().width()))
             for s in squares]
    assert drawn == [tuple(b) for b in expected]      # (top, left, side), nested per fixation
    assert [side for _, _, side in drawn] == [6, 12] * 3
    # the glimpse strip: 2 scales (rows) × 3 steps (columns) of 6×6 with 1-pixel gaps
    assert panel.strip.image.shape == (2 * 6 + 1, 3 * 6 + 2, 3)
    panel.step_slider.setValue(2)
    assert len(panel.scanpath.squares()) == 2 * 2     # the first two fixations only
    assert "after glimpse 2" in panel.bars_plot.plotItem.titleLabel.text
    assert panel.answer.text().startswith("Answer after each glimpse: 3 (20%) → 3 (50%)")


@pytest.mark.slow
def test_epochs_replay_and_random_fixations(panel, ram_run):
    panel.open_run(ram_run)
    last = list(panel.scanpath.fixations)
    panel.epoch_slider.setValue(0)
    assert panel.frame.epoch == 1 and panel.scanpath.fixations != last
    panel.random.setChecked(True)
    store = ram_probes.GlimpseStore(ram_run).load(1)
    expected = ram_probes.fixations(store.random_locations[0], (32, 32))
    assert panel.scanpath.fixations == expected
    assert len(panel.scanpath.squares()) == 6


def icon_image(icon):
    return icon.pixmap(16, 16).toImage()


@pytest.mark.slow
def test_play_steps_through_the_glimpses(panel, ram_run, qtbot):
    from PySide6.QtWidgets import QStyle

    style = panel.style()
    play = icon_image(style.standardIcon(QStyle.SP_MediaPlay))
    pause = icon_image(style.standardIcon(QStyle.SP_MediaPause))
    assert play != pause
    # Qt's media icons and plain words: no "▶"/"⏸" a font may lack (issue 22).
    assert panel.play_button.text() == "Play" and icon_image(panel.play_button.icon()) == play
    panel.open_run(ram_run)
    panel.play_button.setChecked(True)                # at the last step: starts from 1
    assert panel.step_slider.value() == 1
    assert panel.play_button.text() == "Pause" and icon_image(panel.play_button.icon()) == pause
    qtbot.waitUntil(lambda: panel.step_slider.value() == 2, timeout=5000)
    panel.play_button.setChecked(False)
    assert not panel.timer.isActive() and panel.play_button.text() == "Play"
    assert icon_image(panel.play_button.icon()) == play


@pytest.mark.slow
def test_a_dropped_photo_is_looked_at_step_by_step(panel, ram_run, qtbot):
    panel.open_run(ram_run)
    photo = np.full((90, 70, 3), 240, np.uint8)
    photo[20:70, 30:40] = 10                          # a dark "1" on light paper, any size
    with qtbot.waitSignal(panel.updated, timeout=60000,
                          check_params_cb=lambda: bool(panel.dropped)):
        panel.set_image(photo, "photo.png")
    trace = panel.dropped["mean"]
    assert trace.image.shape == (32, 32, 1)           # placed on the 32×32 canvas
    assert trace.locations.shape == (3, 2) and len(panel.scanpath.squares()) == 6
    assert "photo.png" in panel.status.text()


def test_the_prediction_view_answers_with_fixations(qtbot, ram_run):
    view = GlimpsePredictionView(SimpleNamespace(bridge=None))
    qtbot.addWidget(view)
    view.set_run_dir(ram_run)
    with qtbot.waitSignal(view.looked, timeout=60000):
        view.predict_image(np.zeros((32, 32, 1), np.uint8), "blank.png")
    assert "fixations (row, column): 1: (16, 16)" in view.text.text()
    assert len(view.view.squares()) == 3 * 2
    view.slider.setValue(1)
    assert len(view.view.squares()) == 2
    view.close_panel()
