"""A canvas to draw a model's input with the mouse: white strokes on black, at the model's own
resolution (a 64×64 pix2pix run draws 64×64 pixels, shown enlarged).

    pad = DrawingPad(side=64)
    pad.changed.connect(lambda image: ...)     # uint8 (side, side, 1) after every segment
    pad.stroke([(10, 10), (40, 10)])           # what a mouse drag does, in model pixels
    pad.set_tool("eraser"); pad.clear(); pad.set_image(edges)

Strokes are drawn with OpenCV into the model-sized array itself, not into a large picture
that is shrunk afterwards: a one-pixel pen is then exactly the one-pixel edges the run
trained on, and what is shown is what the model gets.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

INK, BLANK = 255, 0
TOOLS = ("pen", "eraser")


class DrawingPad(QWidget):
    changed = Signal(object)          # uint8 (side, side, 1): the picture after a change

    def __init__(self, side: int = 64, parent=None):
        super().__init__(parent)
        self.tool = "pen"
        self.pen_width = 2            # model pixels: the paired datasets draw 2-px edges
        self.eraser_width = 4
        self._last: tuple[float, float] | None = None
        self._erasing = False
        self.ink = np.zeros((side, side), np.uint8)
        self.setMinimumSize(140, 140)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setCursor(Qt.CrossCursor)
        self.setToolTip("Draw with the left button (the pen draws edges, the eraser removes "
                        "them); the translation follows every stroke.")

    # -- the picture ---------------------------------------------------------------------
    @property
    def side(self) -> int:
        return int(self.ink.shape[0])

    def image(self) -> np.ndarray:
        """What the model gets: uint8 (side, side, 1)."""
        return self.ink[:, :, None].copy()

    def set_side(self, side: int) -> None:
        if side != self.side:
            self.ink = np.zeros((int(side), int(side)), np.uint8)
            self.update()

    def set_image(self, image: np.ndarray, emit: bool = True) -> None:
        """Show a (side, side[, 1]) uint8 picture, e.g. a dropped photo's edges."""
        image = np.asarray(image, np.uint8)
        image = image.reshape(image.shape[0], image.shape[1], -1)[:, :, 0]
        if image.shape != self.ink.shape:
            raise ValueError(f"the pad is {self.side}×{self.side}, the image "
                             f"{image.shape[1]}×{image.shape[0]}")
        self.ink = image.copy()
        self._changed(emit)

    def clear(self) -> None:
        self.ink[:] = BLANK
        self._changed(True)

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"tool must be one of {', '.join(TOOLS)}, got {tool!r}")
        self.tool = tool

    def stroke(self, points, erase: bool | None = None) -> None:
        """A polyline in model pixels (x, y), drawn with the current tool (or ``erase``)."""
        erase = self.tool == "eraser" if erase is None else erase
        value, width = (BLANK, self.eraser_width) if erase else (INK, self.pen_width)
        pts = [tuple(int(round(c)) for c in p) for p in points]
        if len(pts) == 1:
            pts = pts * 2
        for a, b in zip(pts, pts[1:], strict=False):
            cv2.line(self.ink, a, b, value, thickness=max(1, int(width)), lineType=cv2.LINE_8)
        self._changed(True)

    def _changed(self, emit: bool) -> None:
        self.update()
        if emit:
            self.changed.emit(self.image())

    # -- the mouse -----------------------------------------------------------------------
    def _square(self):
        """(x0, y0, side in screen pixels) of the drawn square, centred in the widget."""
        s = min(self.width(), self.height())
        return (self.width() - s) / 2, (self.height() - s) / 2, max(1, s)

    def to_model(self, pos: QPointF) -> tuple[float, float]:
        x0, y0, s = self._square()
        k = self.side / s
        return (pos.x() - x0) * k - 0.5, (pos.y() - y0) * k - 0.5

    def mousePressEvent(self, event):        # noqa: N802 (Qt's name)
        if event.button() in (Qt.LeftButton, Qt.RightButton):
            self._erasing = event.button() == Qt.RightButton or self.tool == "eraser"
            self._last = self.to_model(event.position())
            self.stroke([self._last], erase=self._erasing)

    def mouseMoveEvent(self, event):         # noqa: N802
        if self._last is not None:
            here = self.to_model(event.position())
            self.stroke([self._last, here], erase=self._erasing)
            self._last = here

    def mouseReleaseEvent(self, event):      # noqa: N802
        self._last = None

    # -- drawing ---------------------------------------------------------------------
    def sizeHint(self):                      # noqa: N802
        return QSize(256, 256)

    def paintEvent(self, event):             # noqa: N802
        x0, y0, s = self._square()
        data = np.ascontiguousarray(self.ink)
        h, w = data.shape
        picture = QImage(data.data, w, h, w, QImage.Format_Grayscale8)
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.black)
        painter.setRenderHint(QPainter.SmoothPixmapTransform, False)   # crisp model pixels
        painter.drawImage(QRect(int(x0), int(y0), int(s), int(s)), picture)
        painter.setPen(QPen(Qt.darkGray, 1))
        painter.drawRect(int(x0), int(y0), int(s) - 1, int(s) - 1)
        painter.end()
