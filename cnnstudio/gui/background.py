"""One serial worker thread for everything slow that is not training.

Importing Keras, loading a dataset preview, building a model for the summary
table, loading a Predictor: each is a job ``fn()`` queued here; its result (or
StudioError) comes back on the GUI thread through a queued signal. One thread
keeps Keras model building single-threaded; ``key`` lets a newer job replace an
older queued one of the same kind (the summary of options typed a moment ago).
"""

from __future__ import annotations

import itertools
import queue
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal


class _Job:
    def __init__(self, job_id: int, fn: Callable[[], Any], key: str | None,
                 on_done: Callable[[Any], None] | None, on_error: Callable[[str], None] | None):
        self.id, self.fn, self.key = job_id, fn, key
        self.on_done, self.on_error = on_done, on_error
        self.cancelled = False


class Background(QObject):
    # Results travel in a Python queue; the signal carries no Python objects, because
    # queued ``object`` arguments crossing threads corrupted refcounts (None) in PySide 6.12.
    _finished = Signal()
    busy_changed = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self._latest: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending = 0
        self._closing = False
        self._thread = _Loop(self)
        self._thread.setObjectName("cnnstudio-background")
        self._finished.connect(self._deliver)

    def start(self) -> None:
        """Begin serving jobs (the window calls this once it is shown: until then the
        GIL belongs to building the window, not to importing TensorFlow)."""
        if not self._thread.isRunning() and not self._thread.isFinished():
            self._thread.start()

    def submit(self, fn: Callable[[], Any], on_done=None, on_error=None,
               key: str | None = None) -> int:
        job = _Job(next(self._ids), fn, key, on_done, on_error)
        with self._lock:
            if key is not None:
                old = self._latest.get(key)
                if old is not None:
                    old.cancelled = True    # only the newest request of a kind matters
                self._latest[key] = job
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        self._queue.put(job)
        return job.id

    @property
    def idle(self) -> bool:
        return self._pending == 0

    def shutdown(self) -> None:
        """Let the running job finish, drop the rest, join the thread."""
        if self._thread.isRunning():
            self._closing = True        # queued jobs are skipped, not run first
            self._queue.put(None)
            self._thread.wait()

    # -- worker side -------------------------------------------------------
    def _run_job(self, job: _Job) -> None:
        if self._closing:
            job.cancelled = True
        if job.cancelled:
            self._results.put((job, None, None))
            self._finished.emit()
            return
        try:
            result = job.fn()
        except Exception as exc:      # shown to the user; the worker lives on
            from cnnstudio.core.errors import StudioError

            text = str(exc) if isinstance(exc, StudioError) else \
                f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
            self._results.put((job, None, text))
            self._finished.emit()
            return
        self._results.put((job, result, None))
        self._finished.emit()

    def _deliver(self) -> None:
        while True:
            try:
                job, result, error = self._results.get_nowait()
            except queue.Empty:
                return
            self._deliver_one(job, result, error)

    def _deliver_one(self, job: _Job, result, error) -> None:
        self._pending -= 1
        with self._lock:
            if job.key is not None and self._latest.get(job.key) is job:
                del self._latest[job.key]
        if not job.cancelled:
            if error is not None:
                if job.on_error:
                    job.on_error(error)
            elif job.on_done:
                job.on_done(result)
        if self._pending == 0:
            self.busy_changed.emit(False)


class _Loop(QThread):
    def __init__(self, owner: Background):
        super().__init__()
        self.owner = owner

    def run(self) -> None:
        while True:
            job = self.owner._queue.get()
            if job is None:
                return
            self.owner._run_job(job)
