"""Pick a dataset and a model, train a tiny run, and check plots, runs and predictions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from cnnstudio.core.imaging import read_image
from cnnstudio.core.ink_photos import ink_photo
from cnnstudio.core.training.rundir import RunDir
from tests.gui.conftest import configure, tiny_config


def train(qtbot, window):
    started = []
    window.bridge.started.connect(started.append)
    with qtbot.waitSignal(window.bridge.finished, timeout=120_000) as finished:
        qtbot.mouseClick(window.training.start, Qt.LeftButton)
    # The window is idle again once the thread's end has reached the GUI thread.
    qtbot.waitUntil(lambda: window.training.start.isEnabled(), timeout=30_000)
    return started[0], finished.args[0]


def drop(widget, path):
    """Deliver drag-enter and drop events as a drag would (QApplication filters
    synthetic drops that no real drag started, so they go to the widget directly)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton,
                            Qt.NoModifier)
    widget.event(enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier,
                       QEvent.Type.Drop)
    widget.event(event)


@pytest.mark.slow
def test_train_tiny_run_then_predict_a_dropped_image(qtbot, studio, tmp_path):
    configure(qtbot, studio, tiny_config(epochs=2))
    assert [r["name"] for r in studio.architecture.rows][-1] == "predictions"
    assert studio.training.start.isEnabled()

    started, finished = train(qtbot, studio)
    assert finished.status == "finished"
    steps = started.steps_per_epoch
    counts = studio.plots.point_counts()
    assert counts["loss"] == counts["smooth_loss"] == 2 * steps
    assert counts["accuracy"] == 2 * steps
    assert counts["val_loss"] == counts["val_accuracy"] == 2
    # The batch curve holds real per-batch losses: finite, and falling on average.
    _, losses = studio.plots.values("loss")
    assert np.isfinite(losses).all() and losses[-steps:].mean() < losses[:steps].mean()

    run_dir = finished.run_dir
    assert run_dir in studio.runs.paths
    assert studio.runs.status_of(run_dir) == "finished"
    assert "Finished" in studio.training.bar.format()

    # Drop a test digit on the prediction panel; the top-5 must equal `cnnstudio predict`.
    dataset = studio.dataset.dataset
    image_path = tmp_path / "digit.png"
    cv2.imwrite(str(image_path), dataset.test.x[3][:, :, 0])
    with qtbot.waitSignal(studio.prediction.shown, timeout=30_000):
        drop(studio.prediction, image_path)
    from cnnstudio.core.predict import Predictor

    expected = Predictor.from_run(run_dir).top_k(read_image(image_path), 5)
    shown = studio.prediction.view.bars.rows
    assert [name for name, _ in shown] == [name for name, _ in expected]
    assert [p for _, p in shown] == pytest.approx([p for _, p in expected], abs=1e-6)
    assert "As the model sees it: 16×16×1" in studio.prediction.view.view_caption.text()


@pytest.mark.slow
def test_open_run_restores_plots_and_compare_overlays(qtbot, studio):
    configure(qtbot, studio, tiny_config(epochs=1))
    started, finished = train(qtbot, studio)
    studio.plots.reset("cleared")
    assert studio.plots.point_counts()["loss"] == 0
    studio.runs.select(finished.run_dir)
    qtbot.mouseClick(studio.runs.buttons["open"], Qt.LeftButton)
    counts = studio.plots.point_counts()
    assert counts["loss"] == started.steps_per_epoch and counts["val_loss"] == 1
    qtbot.mouseClick(studio.runs.buttons["compare"], Qt.LeftButton)
    assert len(studio.plots.overlays) == 1
    studio.plots.clear_overlays()
    assert not studio.plots.overlays
    qtbot.mouseClick(studio.runs.buttons["delete"], Qt.LeftButton)
    assert finished.run_dir not in studio.runs.paths
    assert not RunDir(finished.run_dir).path.exists()


@pytest.mark.slow
def test_live_prediction_during_training_is_served_between_batches(qtbot, studio):
    configure(qtbot, studio, tiny_config(epochs=30))
    studio.epoch_hooks = [lambda model, epoch: studio.bridge.control.pause()]
    qtbot.mouseClick(studio.training.start, Qt.LeftButton)
    qtbot.waitUntil(lambda: studio.plots.point_counts()["val_loss"] >= 1, timeout=60_000)
    sample = studio.dataset.dataset.test.x[0]
    with qtbot.waitSignal(studio.prediction.shown, timeout=30_000):
        studio.prediction.predict_image(sample, "sample")
    assert "answered between batches" in studio.prediction.view.source.text()
    assert len(studio.prediction.view.bars.rows) == 5
    assert sum(p for _, p in studio.prediction.view.bars.rows) <= 1.0 + 1e-6
    with qtbot.waitSignal(studio.bridge.finished, timeout=30_000):
        studio.stop_training()


@pytest.mark.slow
def test_a_photo_of_a_digit_is_brought_to_the_training_form(qtbot, studio, tmp_path):
    # mnist-5k digits are light strokes on black, centred in a 20×20 box; a photo of a digit
    # in dark ink on light paper is adapted first, and the caption says what was done.
    configure(qtbot, studio, tiny_config(epochs=1, dataset="mnist-5k", options={}))
    _, finished = train(qtbot, studio)
    assert finished.status == "finished"
    photo_path = tmp_path / "photo.png"
    photo = ink_photo(studio.dataset.dataset.test.x[7], np.random.default_rng(0))
    cv2.imwrite(str(photo_path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    with qtbot.waitSignal(studio.prediction.shown, timeout=30_000):
        drop(studio.prediction, photo_path)
    caption = studio.prediction.view.view_caption.text()
    assert "inverted" in caption and "centred" in caption
    assert "inverted: dark strokes" in studio.prediction.view.view_caption.toolTip()
    studio.prediction.view.adapt_box.setChecked(False)            # "Adapt photos" off
    with qtbot.waitSignal(studio.prediction.shown, timeout=30_000):
        drop(studio.prediction, photo_path)
    assert studio.prediction.view.view_caption.text() == "As the model sees it: 28×28×1"
