"""Record a widget (the studio window, a lesson playing) as an MP4 or GIF.

    recorder = WindowRecorder(window, "lesson.mp4", fps=10)
    recorder.failed.connect(status_line.show)     # one line; the recorder has stopped itself
    recorder.start()                              # StudioError: bad suffix, folder, no ffmpeg
    ...
    path = recorder.stop()                        # the finished file (StudioError if it failed)

The GUI thread only grabs: a QTimer takes ``widget.grab()`` as RGB pixels and hands them to
a bounded queue. A plain thread encodes them (cnnstudio.core.video_writer). When the encoder
falls behind, new frames are dropped and counted (``dropped``) rather than stalling the
window; each frame carries its slot on the fps clock, so a dropped or late frame keeps the
previous picture on screen for the missed time and the video lasts as long as the recording.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from pathlib import Path

import numpy as np
import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage

from cnnstudio.core.errors import StudioError
from cnnstudio.core.video_writer import VideoWriter, open_video_writer

_STOP = object()            # the queue's last item: finish the file


# 32-bit formats whose bytes are B, G, R, X on a little-endian machine (X, R, G, B on big)
_XRGB = (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32,
         QImage.Format.Format_ARGB32_Premultiplied)
_RGB = slice(2, None, -1) if sys.byteorder == "little" else slice(1, 4)


def grab_pixels(widget) -> np.ndarray:
    """The widget as it is on screen now, as its 32-bit pixels (H×W×4, device pixels).

    Only the grab and one copy happen here, on the GUI thread; ``to_rgb`` (a few ms for a
    full window) is the encoder thread's work."""
    image = widget.grab().toImage()
    if image.format() not in _XRGB:
        image = image.convertToFormat(QImage.Format.Format_RGB32)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), np.uint8, count=stride * height)
    return raw.reshape(height, stride)[:, :4 * width].reshape(height, width, 4).copy()


def to_rgb(pixels: np.ndarray) -> np.ndarray:
    """``grab_pixels``' 32-bit pixels as uint8 RGB H×W×3 (premultiplied alpha is over
    black already; a window has none)."""
    return np.ascontiguousarray(pixels[..., _RGB])


def grab_rgb(widget) -> np.ndarray:
    """The widget as it is on screen now, uint8 RGB H×W×3."""
    return to_rgb(grab_pixels(widget))


class WindowRecorder(QObject):
    """Frames of ``widget`` at ``fps`` into ``path`` (.mp4 or .gif)."""

    failed = Signal(str)        # one line, emitted on the GUI thread once; recording has stopped

    def __init__(self, widget, path: str | Path, fps: float = 10, parent: QObject | None = None):
        super().__init__(parent)
        self.widget, self.path, self.fps = widget, Path(path), fps
        self.frames = 0             # frames grabbed and handed to the encoder
        self.dropped = 0            # frames grabbed while the encoder was behind: not kept
        self.error: str | None = None
        self._writer: VideoWriter | None = None
        self._thread: threading.Thread | None = None
        self._worker_error: str | None = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._started_at = 0.0
        self._last_slot = -1
        self._queue: queue.Queue = queue.Queue()

    @property
    def recording(self) -> bool:
        return self._thread is not None

    @property
    def seconds(self) -> float:
        """How long the recording has run (the video's length so far)."""
        return time.monotonic() - self._started_at if self.recording else 0.0

    def start(self) -> None:
        """Begin recording: the first frame is grabbed now. Problems known up front (suffix,
        frames per second, folder, ffmpeg missing) raise StudioError and start nothing."""
        if self.recording:
            raise StudioError(f"already recording to {self.path.name}")
        self._writer = open_video_writer(self.path, self.fps)
        self.frames = self.dropped = 0
        self.error = self._worker_error = None
        # Bounded: about a second of frames waits for the encoder, never the whole lesson.
        self._queue = queue.Queue(maxsize=max(2, round(self.fps)))
        self._thread = threading.Thread(target=self._encode, name=f"record {self.path.name}",
                                        daemon=True)
        self._thread.start()
        self._started_at = time.monotonic()
        self._last_slot = -1
        self._tick()
        self._timer.start(max(1, round(1000 / self.fps)))

    def stop(self) -> Path:
        """Finish the file and return its path; waits for the encoder to catch up. Raises
        StudioError (and leaves no file) when the recording failed."""
        self._timer.stop()
        if self._thread is not None:
            while self._thread.is_alive():        # the end is never dropped; a dead worker
                try:                              # (it failed) takes nothing more
                    self._queue.put(_STOP, timeout=0.1)
                    break
                except queue.Full:
                    continue
            self._thread.join()
            self._thread = None
            if self._worker_error and not self.error:
                self.error = self._worker_error
        if self.error:
            raise StudioError(self.error)
        if self._writer is None or not self._writer.closed:
            raise StudioError("the recording was never started")
        return self.path

    def _tick(self) -> None:
        if self._worker_error is not None:        # the encoder gave up: stop and say why once
            self._fail()
            return
        if not shiboken6.isValid(self.widget):    # the window is gone: what was grabbed stays
            self._timer.stop()
            return
        # The nearest period: a tick a little early or late still takes its own slot.
        slot = round((time.monotonic() - self._started_at) * self.fps)
        if slot <= self._last_slot:               # two ticks in one period: it is taken
            return
        self._last_slot = slot
        frame = grab_pixels(self.widget)
        try:
            self._queue.put_nowait((frame, slot))
            self.frames += 1
        except queue.Full:
            self.dropped += 1

    def _fail(self) -> None:
        self._timer.stop()
        self._thread.join()       # the worker set its error as its last act: it has ended
        self._thread = None
        self.error = self._worker_error
        self.failed.emit(self.error)

    def _encode(self) -> None:
        """The worker thread: frames from the queue into the writer, then close it."""
        writer = self._writer
        try:
            while (item := self._queue.get()) is not _STOP:
                pixels, slot = item
                writer.write(to_rgb(pixels), slot)
            writer.close()
        except StudioError as exc:
            writer.abort()
            self._worker_error = str(exc)
        except Exception as exc:          # noqa: BLE001 — any encoder failure is one line
            writer.abort()
            self._worker_error = f"recording {self.path.name} failed: {exc}"
