"""GUI fixtures: a studio window on temp settings, and a guard against threads or timers left running."""

from __future__ import annotations

import gc

import pytest
import shiboken6
from PySide6.QtCore import QSettings, QThread, QTimer

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig


@pytest.fixture(autouse=True)
def _no_dangling_threads_or_timers(monkeypatch):
    """Fail a test that leaves a QThread or a QTimer running (napari's rule)."""
    threads, timers = [], []
    start_thread, start_timer = QThread.start, QTimer.start

    def thread_start(self, *args):
        threads.append(self)
        return start_thread(self, *args)

    def timer_start(self, *args):
        timers.append(self)
        return start_timer(self, *args)

    monkeypatch.setattr(QThread, "start", thread_start)
    monkeypatch.setattr(QTimer, "start", timer_start)
    yield
    running = [t.objectName() or repr(t) for t in threads
               if shiboken6.isValid(t) and t.isRunning()]
    active = [repr(t.parent()) for t in timers if shiboken6.isValid(t) and t.isActive()]
    assert not running, f"QThread(s) left running: {running}"
    assert not active, f"QTimer(s) left running (parents): {active}"
    # Collect the test's Qt wrappers here, on the main thread: garbage collected on a worker
    # thread makes shiboken defer those deletions to the main thread at a random later point.
    gc.collect()


@pytest.fixture
def studio(qtbot, tmp_path, runs_root):
    from cnnstudio.gui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(runs_root=runs_root, settings=settings)
    window.confirm_close = lambda: True
    window.runs.confirm_delete = lambda path: True
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.tf_ready, timeout=90_000)
    yield window
    window.close()


def tiny_config(epochs=2, dataset="digits", options=None, model="mlp", model_options=None,
                batch_size=64) -> RunConfig:
    return RunConfig(DatasetConfig(dataset, {"size": 16} if options is None else options),
                     ModelConfig(model, {"units": 16, "hidden_layers": 1}
                                 if model_options is None else model_options),
                     # One step per call: the tests follow each batch (several per call:
                     # tests/core/test_steps_per_call.py).
                     TrainConfig(epochs=epochs, batch_size=batch_size, steps_per_call=1))


def configure(qtbot, window, config: RunConfig) -> None:
    """Put a config in the pickers and wait until the dataset and layer table are ready."""
    window.set_run_config(config)
    qtbot.waitUntil(lambda: window.background.idle and window.dataset.dataset is not None,
                    timeout=30_000)
    qtbot.waitUntil(lambda: window.architecture.problem is None
                    or window.architecture.problem_is_error, timeout=30_000)
