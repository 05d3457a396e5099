"""A thread that reads a frame source as fast as it gives frames and keeps only the newest.

A model slower than the camera must show the camera's *present*, not a growing backlog:
each new frame replaces the one held, and a frame replaced before anyone took it counts as
dropped. ``captured`` counts every frame read.
"""

from __future__ import annotations

import threading
import time

import numpy as np

# A live source with no frame just now (a camera between frames) is asked again this soon.
RETRY_S = 0.005


class FrameGrabber:
    """``start()``; ``latest()`` or ``wait(after_id)`` → (frame, frame_id, t_captured);
    ``stop()`` ends the thread and closes the source. ``t_captured`` is ``time.perf_counter()``
    when the frame arrived; ``frame_id`` counts from 0."""

    def __init__(self, source):
        self.source = source
        self.captured = 0
        self.dropped = 0
        self.error: str | None = None        # why reading failed, if it did (one line)
        self._latest: tuple[np.ndarray, int, float] | None = None
        self._taken = True
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def ended(self) -> bool:
        """The source has no more frames (a video file that does not loop), or failed."""
        return self._thread is not None and not self._thread.is_alive()

    def start(self) -> FrameGrabber:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="frame-grabber", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self.source.read()
                if frame is None:
                    if getattr(self.source, "ended", False):
                        break
                    self._stop.wait(RETRY_S)
                    continue
                self._put(frame, time.perf_counter())
        except Exception as exc:       # a camera unplugged mid-read: say so, end the thread
            self.error = f"{getattr(self.source, 'name', 'source')}: {exc}".splitlines()[0]
        finally:
            with self._cond:
                self._cond.notify_all()          # a waiting consumer learns it ended

    def _put(self, frame: np.ndarray, t: float) -> None:
        with self._cond:
            if not self._taken:
                self.dropped += 1
            self._latest = (frame, self.captured, t)
            self._taken = False
            self.captured += 1
            self._cond.notify_all()

    def latest(self) -> tuple[np.ndarray, int, float] | None:
        """The newest frame (None before the first); taking it means it is not dropped."""
        with self._cond:
            self._taken = True
            return self._latest

    def wait(self, after_id: int = -1, timeout: float = 1.0) -> tuple[np.ndarray, int, float] | None:
        """The newest frame once it is newer than ``after_id``; None after ``timeout``
        seconds or when the source has ended."""
        deadline = time.perf_counter() + timeout
        with self._cond:
            while self._latest is None or self._latest[1] <= after_id:
                left = deadline - time.perf_counter()
                if left <= 0 or self.ended:
                    return None
                self._cond.wait(left)
            self._taken = True
            return self._latest

    def stop(self, timeout: float = 2.0) -> None:
        """End the thread and close the source (a read that hangs is given ``timeout``)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        try:
            self.source.close()
        except Exception:      # closing a broken camera must not hide why it stopped
            pass

    def __enter__(self) -> FrameGrabber:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
