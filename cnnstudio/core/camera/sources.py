"""Frame sources: a camera (OpenCV ``VideoCapture``) and a video file, both giving RGB uint8
(H, W, 3) frames. ``list_cameras`` probes the first few camera indices, briefly and quietly.

Any object with ``name``, ``fps``, ``read()`` and ``close()`` is a source (``FrameSource``):
the GUI adds a screen region, the benchmark and the tests use ``GeneratedSource``.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from cnnstudio.core.errors import StudioError

# Opening a camera that is not there must not hang the window: each probe gets this long.
PROBE_TIMEOUT_S = 1.5
UNPLUGGED_S = 2.0


@runtime_checkable
class FrameSource(Protocol):
    """What the grabber reads from. ``read`` returns the next RGB uint8 frame, or None when
    there is none now (a source that has ended sets ``ended``, when it has one)."""

    name: str
    fps: float | None

    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class CameraInfo:
    index: int
    name: str
    width: int
    height: int

    def __str__(self) -> str:
        return f"{self.name} ({self.width}×{self.height})"


class _Quiet:
    """OpenCV logs a warning for every index it cannot open; a probe expects most to fail."""

    def __enter__(self):
        logging = getattr(getattr(cv2, "utils", None), "logging", None)
        self._logging = logging
        if logging is not None:
            self._level = logging.getLogLevel()
            logging.setLogLevel(logging.LOG_LEVEL_SILENT)
        return self

    def __exit__(self, *exc):
        if self._logging is not None:
            self._logging.setLogLevel(self._level)


def _device_missing(index: int) -> bool:
    """On Linux a camera is a /dev/videoN node: no node, no camera (and no slow probe)."""
    return sys.platform.startswith("linux") and not Path(f"/dev/video{index}").exists()


def _device_name(index: int) -> str:
    node = Path(f"/sys/class/video4linux/video{index}/name")
    try:
        text = node.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return text or f"Camera {index}"


def _open_capture(index: int, width: int | None = None, height: int | None = None,
                  timeout_s: float = PROBE_TIMEOUT_S):
    """An opened ``VideoCapture`` that has given one frame, or None — within ``timeout_s``
    (a driver that hangs is left behind on a daemon thread, not waited for)."""
    box: dict = {}

    def work():
        with _Quiet():
            cap = cv2.VideoCapture(index)
            if not cap.isOpened():
                cap.release()
                return
            if width and height:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            ok, frame = cap.read()
            if not ok or frame is None:
                cap.release()
                return
            box["cap"], box["frame"] = cap, frame

    thread = threading.Thread(target=work, name=f"camera-probe-{index}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        return None, None
    return box.get("cap"), box.get("frame")


def list_cameras(max_index: int = 5) -> list[CameraInfo]:
    """The cameras among indices 0..``max_index`` that open and give a frame (an empty list,
    without a word on the console, on a machine with none)."""
    found = []
    for index in range(max_index + 1):
        if _device_missing(index):
            continue
        cap, frame = _open_capture(index)
        if cap is None:
            continue
        found.append(CameraInfo(index, _device_name(index), int(frame.shape[1]),
                                int(frame.shape[0])))
        cap.release()
    return found


def _rgb(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def _rate(cap) -> float | None:
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    return fps if np.isfinite(fps) and 0 < fps < 1000 else None


class CameraSource:
    """A camera by its OpenCV index, asked for ``width``×``height`` (it may give another size)."""

    def __init__(self, index: int, width: int = 640, height: int = 480):
        self.index = int(index)
        cap, frame = (None, None) if _device_missing(self.index) else \
            _open_capture(self.index, width, height, timeout_s=2 * PROBE_TIMEOUT_S)
        if cap is None:
            raise StudioError(f"camera {self.index} cannot be opened: there is no such camera, "
                              "or another program is using it")
        self._cap = cap
        self._first = frame
        self.name = _device_name(self.index)
        self.fps = _rate(cap)
        self.width, self.height = int(frame.shape[1]), int(frame.shape[0])
        self.ended = False
        self._last_frame = time.monotonic()

    def read(self) -> np.ndarray | None:
        if self._first is not None:           # the probe's frame: not wasted
            frame, self._first = self._first, None
            return _rgb(frame)
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        if not ok or frame is None:
            # An unplugged camera fails every read for ever: 2 s without a frame ends it.
            if time.monotonic() - self._last_frame > UNPLUGGED_S:
                self.ended = True
            return None
        self._last_frame = time.monotonic()
        return _rgb(frame)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        self.ended = True


class VideoFileSource:
    """A video file's frames, from the start again at its end when ``loop``; ``realtime``
    paces them to the file's frame rate (a camera's behaviour), else as fast as they decode."""

    def __init__(self, path: str | Path, loop: bool = True, realtime: bool = True):
        self.path = Path(path)
        if not self.path.is_file():
            raise StudioError(f"video file not found: {self.path}")
        with _Quiet():
            cap = cv2.VideoCapture(str(self.path))
            ok, frame = cap.read() if cap.isOpened() else (False, None)
        if not ok or frame is None:
            cap.release()
            raise StudioError(f"cannot read video file {self.path.name}: not a video OpenCV "
                              "can decode (damaged, or a format without a codec here)")
        self._cap = cap
        self._first = frame
        self.name = self.path.name
        self.fps = _rate(cap)
        self.loop, self.realtime = bool(loop), bool(realtime)
        self.width, self.height = int(frame.shape[1]), int(frame.shape[0])
        self.frames_read = 0          # frames given out, over every loop
        self.ended = False
        self._clock = _Pacer(self.fps if self.realtime else None)

    def read(self) -> np.ndarray | None:
        if self._cap is None or self.ended:
            return None
        frame = self._next()
        if frame is None:
            self.ended = True
            return None
        self._clock.wait()
        self.frames_read += 1
        return _rgb(frame)

    def _next(self) -> np.ndarray | None:
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        ok, frame = self._cap.read()
        if ok and frame is not None:
            return frame
        if not self.loop or self.frames_read == 0:
            return None
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)      # back to the start
        ok, frame = self._cap.read()
        return frame if ok else None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        self.ended = True


class _Pacer:
    """Sleeps so that calls to ``wait`` come ``1 / fps`` apart, like a camera's frames. A
    caller that fell behind by more than a frame starts a new schedule (no burst to catch up)."""

    def __init__(self, fps: float | None):
        self.period = 1.0 / fps if fps else 0.0
        self._due: float | None = None

    def wait(self) -> None:
        if not self.period:
            return
        now = time.perf_counter()
        if self._due is None or now - self._due > self.period:
            self._due = now
        elif self._due > now:
            time.sleep(self._due - now)
        self._due += self.period
