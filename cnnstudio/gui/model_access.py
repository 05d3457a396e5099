"""Where the model lives decides who may touch it (DESIGN.md, Threads): the plumbing every
family's panels share to run model work off the GUI thread and bring the answer back.

A panel never holds a model: it holds a *runner*, ``submit(fn) -> Future`` that calls
``fn(model)`` on the thread owning the model — ``RunControl.submit`` during training, or a
``ModelRunner`` (an inference copy on its own worker thread) for a saved run.
``ModelAccess`` picks between the two for a run folder; ``Answers`` brings results back
to the GUI thread, dropping answers to superseded requests.
"""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal

Runner = Callable[[Callable], Future]


class ModelRunner:
    """An inference copy of a model on one worker thread: ``submit(fn)`` → Future of fn(model)."""

    def __init__(self, model=None, path: str | Path | None = None):
        self._model, self._path = model, path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="insight-model")

    @classmethod
    def from_run(cls, run_dir) -> ModelRunner:
        from cnnstudio.core.training.rundir import RunDir

        path = RunDir.open(run_dir).model_path()
        if path is None:
            raise FileNotFoundError(f"run {Path(run_dir).name} has no saved model yet")
        return cls(path=path)

    def _call(self, fn):
        if self._model is None:     # loaded on the worker: the GUI never waits for Keras
            from cnnstudio.core.predict import load_model_file

            self._model = load_model_file(self._path)
        return fn(self._model)

    def submit(self, fn) -> Future:
        return self._pool.submit(self._call, fn)

    __call__ = submit

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class Answers(QObject):
    """Delivers Future results on the GUI thread, dropping answers to superseded requests.

    Results wait in a locked deque and a no-argument signal wakes the GUI thread:
    PySide 6.12 crashed when Python objects crossed threads inside queued signals.
    """
    _wake = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._tickets = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._callbacks: dict[int, tuple[str, Callable, Callable]] = {}
        self._ready: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._wake.connect(self._deliver_all, Qt.QueuedConnection)

    def watch(self, key: str, future: Future, on_result: Callable, on_error: Callable) -> None:
        ticket = next(self._tickets)
        self._latest[key] = ticket
        self._callbacks[ticket] = (key, on_result, on_error)

        def done(f: Future):           # any thread
            error = f.exception() if not f.cancelled() else RuntimeError("cancelled")
            with self._lock:
                self._ready.append((ticket, None if error else f.result(), error))
            self._wake.emit()

        future.add_done_callback(done)

    def busy(self) -> bool:
        return bool(self._callbacks)

    def flush(self) -> None:
        """Hand back now, on the GUI thread, every answer that has arrived (a panel closing
        takes what is in flight instead of waiting for the queued wake-up)."""
        self._deliver_all()

    def _deliver_all(self) -> None:
        while True:
            with self._lock:
                if not self._ready:
                    return
                ticket, result, error = self._ready.popleft()
            self._deliver(ticket, result, error)

    def _deliver(self, ticket, result, error) -> None:
        key, on_result, on_error = self._callbacks.pop(ticket)
        if self._latest.get(key) != ticket:
            return                   # a newer request for the same view is on its way
        if error is not None:
            on_error(error)
        else:
            on_result(result)


class ModelAccess:
    """Runs ``fn(model)`` where the model lives: the training thread while its run is live
    (``window.bridge.submit``), else an inference copy loaded from the run directory."""

    def __init__(self, window, answers: Answers):
        self.window, self.answers = window, answers
        self.run_dir: Path | None = None
        self.runner: ModelRunner | None = None

    def set_run(self, run_dir) -> None:
        if self.run_dir != (Path(run_dir) if run_dir else None):
            self.close()
        self.run_dir = Path(run_dir) if run_dir else None

    def _live(self) -> bool:
        bridge = getattr(self.window, "bridge", None)
        return bool(bridge is not None and bridge.running and bridge.run_dir is not None
                    and self.run_dir is not None
                    and Path(bridge.run_dir).resolve() == self.run_dir.resolve())

    def submit(self, key: str, fn, on_result, on_error) -> None:
        if self.run_dir is None:
            on_error(RuntimeError("no run is open"))
            return
        if self._live():
            def delivered(future):
                if future.cancelled():    # the run ended first: its saved model answers
                    self._from_saved(key, fn, on_result, on_error)
                    return
                error = future.exception()
                on_error(error) if error else on_result(future.result())
            if self.window.bridge.submit(fn, delivered):
                return
        self._from_saved(key, fn, on_result, on_error)

    def _from_saved(self, key: str, fn, on_result, on_error) -> None:
        if self.runner is None:
            try:
                self.runner = ModelRunner.from_run(self.run_dir)
            except Exception as exc:      # no model saved yet
                on_error(exc)
                return
        self.answers.watch(key, self.runner.submit(fn), on_result, on_error)

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()
            self.runner = None
