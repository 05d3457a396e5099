"""Steering a run from another thread: stop, pause/resume, and work queued for the run's thread.

The run's thread is the only one that touches its model. Anything else that
needs the model (predict a dropped image, feature maps for a layer) submits a
function; the engine calls it between batches and the caller gets a Future.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


class RunStopped(Exception):
    """Raised into pending requests when the run ends before serving them."""


class RunControl:
    def __init__(self):
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._holding = threading.Event()      # the run's thread waits in wait_while_paused
        self._requests: queue.SimpleQueue[tuple[Callable[[Any], Any], Future]] = queue.SimpleQueue()

    # -- called from any thread -------------------------------------------
    def stop(self) -> None:
        self._stop.set()
        self._running.set()     # a paused run must wake up to stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def holding(self) -> bool:
        """True once the run's thread has finished its batch in flight and waits: a pause
        asked during an epoch's end (validation, probes, checkpoint) holds a batch later."""
        return self._holding.is_set()

    def submit(self, fn: Callable[[Any], Any]) -> Future:
        """Run ``fn(model)`` on the run's thread at the next batch boundary."""
        future: Future = Future()
        self._requests.put((fn, future))
        return future

    # -- called on the run's thread ---------------------------------------
    def serve(self, model) -> None:
        while True:
            try:
                fn, future = self._requests.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(model))
            except BaseException as exc:   # the caller sees the error; training goes on
                future.set_exception(exc)

    def wait_while_paused(self, model, poll: float = 0.05) -> None:
        self._holding.set()
        try:
            while not self._running.wait(poll):
                self.serve(model)
        finally:
            self._holding.clear()

    def cancel_pending(self) -> None:
        while True:
            try:
                _, future = self._requests.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                future.set_exception(RunStopped("the run ended before the request was served"))
