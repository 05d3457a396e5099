"""Stop mid-epoch and resume; close the window while a run trains."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cnnstudio.core.training.rundir import RunDir
from tests.gui.conftest import configure, tiny_config


def _hold_after_epoch(window, epoch_to_hold: int):
    """Pause on the training thread right after an epoch: the run then stops at the
    first batch of the next epoch, mid-epoch, deterministically."""
    def hook(model, epoch):
        if epoch == epoch_to_hold:
            window.bridge.control.pause()
    window.epoch_hooks = [hook]


@pytest.mark.slow
def test_stop_mid_epoch_then_resume_from_the_runs_panel(qtbot, studio):
    configure(qtbot, studio, tiny_config(epochs=3))
    _hold_after_epoch(studio, 1)
    batches = []
    studio.bridge.batches.connect(batches.extend)
    qtbot.mouseClick(studio.training.start, Qt.LeftButton)
    qtbot.waitUntil(lambda: any(b.epoch == 2 for b in batches), timeout=60_000)
    with qtbot.waitSignal(studio.bridge.finished, timeout=30_000) as stopped:
        qtbot.mouseClick(studio.training.stop, Qt.LeftButton)
    event = stopped.args[0]
    assert event.status == "stopped" and event.epochs_done == 1
    qtbot.waitUntil(lambda: studio.training.start.isEnabled(), timeout=30_000)
    run = RunDir(event.run_dir)
    assert run.status() == "stopped" and run.last_checkpoint()[0] == 1
    assert studio.runs.status_of(run.path) == "stopped"
    assert "Stopped" in studio.training.bar.format()

    studio.epoch_hooks = []
    studio.training.epochs.setValue(40)                  # the form moved on since
    studio.runs.select(run.path)
    assert studio.runs.buttons["resume"].isEnabled()
    with qtbot.waitSignal(studio.bridge.finished, timeout=60_000) as resumed:
        qtbot.mouseClick(studio.runs.buttons["resume"], Qt.LeftButton)
        assert studio.training.epochs.value() == 3       # the resumed run's own epochs
    assert resumed.args[0].status == "finished" and resumed.args[0].epochs_done == 3
    qtbot.waitUntil(lambda: studio.training.start.isEnabled(), timeout=30_000)
    # Validation points: epoch 1 restored from disk, epochs 2 and 3 live.
    assert studio.plots.point_counts()["val_loss"] == 3
    # Feature maps and Grad-CAM are not left empty: they show the run's first probe image.
    probe = RunDir(event.run_dir).path / "probes" / "images.npz"
    with np.load(probe) as stored:
        first = stored["images"][0]
    for panel in (studio.tabs.controller("classifier-insight").feature_maps, studio.tabs.controller("classifier-insight").gradcam):
        assert panel.image is not None and np.array_equal(panel.image, first)
    assert studio.tabs.controller("classifier-insight").feature_maps.image_caption.startswith("probe image 1 (class ")
    assert [r["epoch"] for r in run.epoch_history()] == [1, 2, 3]
    assert studio.runs.status_of(run.path) == "finished"


@pytest.mark.slow
def test_close_during_training_asks_stops_joins_and_leaves_it_resumable(qtbot, studio):
    configure(qtbot, studio, tiny_config(epochs=200))
    epochs = []
    studio.bridge.epoch.connect(epochs.append)
    qtbot.mouseClick(studio.training.start, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(epochs) >= 1, timeout=60_000)
    run_dir = studio.bridge.run_dir

    batches = []
    studio.bridge.batches.connect(lambda events: batches.extend(e.step for e in events))
    asked = []

    def answer_later():
        # The question is open: the run holds after the batch in flight (which may be the
        # next epoch's first when the pause came during validation). Once it holds and the
        # window has drained its events, no batch may come.
        assert studio.bridge.paused
        qtbot.waitUntil(lambda: studio.bridge.held, timeout=30_000)
        qtbot.wait(300)
        seen = len(batches)
        qtbot.wait(1_000)
        asked.append(len(batches) - seen)
        return False                                  # the user says "no"

    studio.confirm_close = answer_later
    studio.close()
    assert asked == [0] and studio.isVisible() and studio.bridge.running
    assert not studio.bridge.paused                       # "no": it goes on
    after = len(batches)
    qtbot.waitUntil(lambda: len(batches) > after, timeout=30_000)

    studio.confirm_close = lambda: True
    studio.close()
    assert not studio.isVisible()
    assert not studio.bridge.running                      # joined, not abandoned
    run = RunDir(run_dir)
    assert run.status() == "stopped"
    assert run.last_checkpoint() is not None              # resumable from disk
    assert run.read_json("summary.json")["status"] == "stopped"


@pytest.mark.slow
def test_confusion_and_errors_fill_while_training(qtbot, studio):
    configure(qtbot, studio, tiny_config(epochs=3))
    _hold_after_epoch(studio, 1)
    epochs = []
    studio.bridge.epoch.connect(epochs.append)
    qtbot.mouseClick(studio.training.start, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(epochs) >= 1, timeout=60_000)
    assert studio.bridge.running
    test_size = len(studio.dataset.dataset.test)
    for panel in (studio.tabs.controller("classifier-insight").confusion, studio.tabs.controller("classifier-insight").errors):
        with qtbot.waitSignal(panel.updated, timeout=30_000):
            studio.tabs.show_panel(panel)      # shown → predicted between batches
        assert panel.predictions is not None and len(panel.predictions.y_true) == test_size
    assert studio.tabs.controller("classifier-insight").confusion.cm.sum() == test_size
    with qtbot.waitSignal(studio.bridge.finished, timeout=30_000):
        studio.stop_training()
