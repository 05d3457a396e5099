"""The run bridge: a QThread that executes the engine and re-emits its events as Qt signals.

The engine calls ``sink`` on the training thread. The sink only appends to a
queue and wakes the GUI thread with one queued signal; the GUI drains the queue
in order. A burst of thousands of BatchEnd events thus costs one wake-up, and
each batch still reaches the plots (grouped into one ``batches`` list). While
events keep coming, the GUI drains at most every ``DRAIN_MS`` (a timer, no wake-ups
from the training thread): a fast model's 50+ batches a second cost a handful of
GUI-thread turns, not one each.
"""

from __future__ import annotations

import collections
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from cnnstudio.core.training.control import RunControl
from cnnstudio.core.training.events import (
    BatchEnd,
    DeviceReport,
    EpochEnd,
    Notice,
    ProbeReady,
    Progress,
    RunFailed,
    RunFinished,
    RunStarted,
)

DRAIN_MS = 50


class RunBridge(QObject):
    started = Signal(object)            # RunStarted
    batches = Signal(list)              # [BatchEnd, ...] in order
    epoch = Signal(object)              # EpochEnd
    probe = Signal(object)              # ProbeReady (per-epoch probes written to disk)
    progress = Signal(object)           # Progress (download, loading)
    notice = Signal(object)             # Notice
    device = Signal(object)             # DeviceReport
    finished = Signal(object)           # RunFinished
    failed = Signal(str)                # a reason, before or during the run
    running_changed = Signal(bool)
    _wake = Signal()
    _answer = Signal()                  # answers wait in ``_answers`` (no objects cross threads)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.control: RunControl | None = None
        self.run_dir: Path | None = None
        self.last_result = None
        self._thread: QThread | None = None
        self._events: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._wake_pending = False
        self._wake.connect(self._drain)
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(DRAIN_MS)
        self._throttle.timeout.connect(self._drain)
        self._answers: collections.deque = collections.deque()
        self._answer.connect(self._deliver_answers)

    # -- starting ----------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def start(self, config, runs_root=None, epoch_hooks=()) -> None:
        def job(engine, control):
            return engine.run(config, runs_root=runs_root, sink=self._sink, control=control,
                              epoch_hooks=epoch_hooks)
        self._launch(job)

    def resume(self, run_dir, epochs: int | None = None, epoch_hooks=()) -> None:
        def job(engine, control):
            return engine.resume(run_dir, sink=self._sink, control=control, epochs=epochs,
                                 epoch_hooks=epoch_hooks)
        self._launch(job)

    def _launch(self, job: Callable[[Any, RunControl], Any]) -> None:
        if self.running:
            raise RuntimeError("a run is already in progress")
        # The training thread runs Keras's Python loop; hand the GIL back to the GUI thread
        # every millisecond rather than every five, so the window never waits long for it.
        sys.setswitchinterval(0.001)
        self.control = RunControl()
        self.run_dir = None
        self.last_result = None
        thread = _RunThread(job, self.control, self._sink)
        thread.finished.connect(self._thread_done)
        self._thread = thread
        thread.start()
        self.running_changed.emit(True)

    # -- steering (any time; no-ops when idle) -----------------------------
    def stop(self) -> None:
        if self.control:
            self.control.stop()

    def pause(self) -> None:
        if self.control:
            self.control.pause()

    def resume_paused(self) -> None:
        if self.control:
            self.control.resume()

    @property
    def paused(self) -> bool:
        return bool(self.control and self.control.paused and self.running)

    @property
    def held(self) -> bool:
        """Paused and actually holding: the batch in flight has ended."""
        return bool(self.paused and self.control.holding)

    def submit(self, fn: Callable[[Any], Any], callback: Callable[[Any], None]) -> bool:
        """Run ``fn(model)`` on the training thread between batches; ``callback(future)``
        is then called on the GUI thread. False when no run is active."""
        if not self.running or self.control is None:
            return False
        future = self.control.submit(fn)
        def done(f):
            self._answers.append((f, callback))
            self._answer.emit()
        future.add_done_callback(done)
        return True

    def _deliver_answers(self) -> None:
        while self._answers:
            future, callback = self._answers.popleft()
            callback(future)

    def join(self, timeout_ms: int | None = None) -> bool:
        """Stop the run at the next batch and wait for its thread (closing the window)."""
        if self._thread is None:
            return True
        self.stop()
        done = self._thread.wait() if timeout_ms is None else self._thread.wait(timeout_ms)
        self._drain(last=done)
        if done:
            self._throttle.stop()
        return done

    # -- event plumbing ----------------------------------------------------
    def _sink(self, event) -> None:        # training thread
        with self._lock:
            self._events.append(event)
            if self._wake_pending:
                return
            self._wake_pending = True
        self._wake.emit()

    def _drain(self, last: bool = False) -> None:     # GUI thread
        with self._lock:
            events = list(self._events)
            self._events.clear()
            # Events arrived since the last turn: look again after DRAIN_MS rather than on
            # each one's wake-up (the sink stays quiet while a wake is pending).
            self._wake_pending = bool(events) and not last
        if self._wake_pending:
            self._throttle.start()
        group: list[BatchEnd] = []
        for event in events:
            if isinstance(event, BatchEnd):
                group.append(event)
                continue
            if group:
                self.batches.emit(group)
                group = []
            self._dispatch(event)
        if group:
            self.batches.emit(group)

    def _dispatch(self, event) -> None:
        if isinstance(event, RunStarted):
            self.run_dir = Path(event.run_dir)
            self.started.emit(event)
        elif isinstance(event, EpochEnd):
            self.epoch.emit(event)
        elif isinstance(event, ProbeReady):
            self.probe.emit(event)
        elif isinstance(event, Progress):
            self.progress.emit(event)
        elif isinstance(event, Notice):
            self.notice.emit(event)
        elif isinstance(event, DeviceReport):
            self.device.emit(event)
        elif isinstance(event, RunFinished):
            self.run_dir = Path(event.run_dir)
            self.finished.emit(event)
        elif isinstance(event, RunFailed):
            self.failed.emit(event.reason)
        elif isinstance(event, _StartError):
            self.failed.emit(event.reason)

    def _thread_done(self) -> None:
        if self._thread is not None:       # finished is emitted just before the thread ends
            self._thread.wait()
        self._throttle.stop()
        self._drain(last=True)
        thread, self._thread = self._thread, None
        if thread is not None:
            self.last_result = thread.result
            thread.deleteLater()
        self.running_changed.emit(False)


class _StartError:
    """A StudioError raised before training began (bad config, dataset, architecture)."""

    def __init__(self, reason: str):
        self.reason = reason


class _RunThread(QThread):
    def __init__(self, job, control: RunControl, sink):
        super().__init__()
        self.setObjectName("cnnstudio-run")
        self.job, self.control, self.sink = job, control, sink
        self.result = None

    def run(self) -> None:
        from cnnstudio.core.errors import StudioError

        try:
            from cnnstudio.core.training import engine  # imports Keras: off the GUI thread

            self.result = self.job(engine, self.control)
        except StudioError as exc:
            self.sink(_StartError(str(exc)))
        except Exception as exc:    # a bug must reach the window, not vanish with the thread
            self.sink(_StartError(f"{type(exc).__name__}: {exc}"))
        finally:
            self.control.cancel_pending()
