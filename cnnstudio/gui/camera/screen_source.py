"""A rectangle of the screen as a frame source, so a presenter can show the model pictures
from a browser or a slide.

Qt lets only the GUI thread grab the screen, so a QTimer grabs the rectangle there
(``QScreen.grabWindow``) and keeps the newest picture; the grabber thread's ``read()`` takes
it when it is new. ``close()`` may come from any thread: the timer is stopped on its own.
"""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QObject, QRect, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage

READ_WAIT_S = 0.1        # how long read() waits for the next grab before saying "none now"


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """A QImage as an RGB uint8 (H, W, 3) array (a copy; rows padded by Qt are cut)."""
    image = image.convertToFormat(QImage.Format_RGB888)
    h, w = image.height(), image.width()
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * h)
    return rows.reshape(h, image.bytesPerLine())[:, :3 * w].reshape(h, w, 3).copy()


def screen_geometry() -> QRect:
    """All screens together (the virtual desktop), in the coordinates grabWindow takes."""
    screen = QGuiApplication.primaryScreen()
    return screen.virtualGeometry() if screen is not None else QRect(0, 0, 0, 0)


class ScreenRegionSource(QObject):
    """``rect`` of the screen (virtual-desktop coordinates) at ``fps`` grabs per second."""

    _close_requested = Signal()

    def __init__(self, rect: QRect, fps: float = 10.0, parent=None):
        super().__init__(parent)
        desktop = screen_geometry()
        self.rect = QRect(rect).intersected(desktop)
        if self.rect.width() < 8 or self.rect.height() < 8:
            from cnnstudio.core.errors import StudioError

            raise StudioError(f"the screen region {rect.width()}×{rect.height()} at "
                              f"({rect.x()}, {rect.y()}) is not on the screen "
                              f"({desktop.width()}×{desktop.height()})")
        r = self.rect
        self.name = f"Screen {r.width()}×{r.height()} at ({r.x()}, {r.y()})"
        self.fps = float(fps)
        self.ended = False
        self.grabs = 0
        self._frame: np.ndarray | None = None
        self._new = threading.Condition()
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, int(1000 / self.fps)))
        self._timer.timeout.connect(self.grab)
        self._close_requested.connect(self._stop_timer, Qt.QueuedConnection)
        self.grab()
        self._timer.start()

    def grab(self) -> None:
        """Take the rectangle now (GUI thread)."""
        screen = QGuiApplication.screenAt(self.rect.center()) or QGuiApplication.primaryScreen()
        if screen is None or self.ended:
            return
        # grabWindow(0, …) takes coordinates relative to that screen's top left.
        origin = screen.geometry().topLeft()
        r = self.rect.translated(-origin)
        frame = qimage_to_rgb(screen.grabWindow(0, r.x(), r.y(), r.width(), r.height())
                              .toImage())
        if frame.size == 0:
            return
        with self._new:
            self._frame = frame
            self.grabs += 1
            self._new.notify_all()

    def read(self) -> np.ndarray | None:
        """The newest grab not read yet (waits up to READ_WAIT_S for one), else None."""
        with self._new:
            if self._frame is None and not self.ended:
                self._new.wait(READ_WAIT_S)
            frame, self._frame = self._frame, None
            return frame

    def close(self) -> None:
        with self._new:
            self.ended = True
            self._new.notify_all()
        if QThread.currentThread() is self.thread():
            self._stop_timer()
        else:
            self._close_requested.emit()

    def _stop_timer(self) -> None:
        self._timer.stop()
