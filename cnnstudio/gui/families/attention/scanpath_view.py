"""The image with the RAM's scanpath: numbered fixations joined by arrows, and at each
fixation the Glimpse Sensor's k nested squares (patch, 2·patch, 4·patch… pixels).

    view = ScanpathView()
    view.show_trace(image, locations, patch=12, scales=3, ratio=2, step=4)   # first 4 looks

Squares, numbers and arrows are graphics items made once and reused (shown or hidden),
so stepping through a trace only moves them. ``squares()`` lists the visible squares
(tests count one per scale per fixation).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from cnnstudio.core.families.attention.glimpse import centre_pixel, glimpse_boxes
from cnnstudio.gui.widgets.mosaic import TitledImageView

BACKGROUND = "#1e1e1e"


def step_colour(t: int, steps: int) -> QColor:
    """Early fixations yellow, late ones red-magenta: the order reads at a glance."""
    hue = 0.16 - 0.2 * (t / max(1, steps - 1))
    return QColor.fromHsvF(hue % 1.0, 0.9, 1.0)


def grey_rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image[..., :3]


class ScanpathView(TitledImageView):
    def __init__(self, title: str = "Where the model looks", parent=None, min_side: int = 220):
        super().__init__(title, parent, min_side)
        self.setBackground(BACKGROUND)          # darker than a mosaic's gaps
        self.path = pg.PlotCurveItem(pen=pg.mkPen((255, 255, 255, 160), width=1.5))
        self.view.addItem(self.path)
        self._squares: list[QGraphicsRectItem] = []
        self._numbers: list[pg.TextItem] = []
        self._arrows: list[pg.ArrowItem] = []
        self.image: np.ndarray | None = None
        self.fixations: list[tuple[int, int]] = []

    # -- items made on demand, reused ----------------------------------------------------
    def _square(self, i: int) -> QGraphicsRectItem:
        while len(self._squares) <= i:
            item = QGraphicsRectItem()
            self.view.addItem(item)
            self._squares.append(item)
        return self._squares[i]

    def _number(self, i: int) -> pg.TextItem:
        while len(self._numbers) <= i:
            item = pg.TextItem(color=(255, 255, 255), anchor=(0.5, 0.5), fill=(0, 0, 0, 170))
            font = QFont("Sans")
            font.setPixelSize(11)
            font.setBold(True)
            item.setFont(font)
            self.view.addItem(item)
            self._numbers.append(item)
        return self._numbers[i]

    def _arrow(self, i: int) -> pg.ArrowItem:
        while len(self._arrows) <= i:
            item = pg.ArrowItem(headLen=9, tipAngle=35, pen=None, brush=(255, 255, 255, 220))
            self.view.addItem(item)
            self._arrows.append(item)
        return self._arrows[i]

    def squares(self) -> list[QGraphicsRectItem]:
        return [s for s in self._squares if s.isVisible()]

    # -- drawing -------------------------------------------------------------------------
    def show_trace(self, image, locations, patch: int, scales: int, ratio: int,
                   step: int | None = None, title: str | None = None,
                   caption: str | None = None) -> None:
        """Draw ``image`` and the first ``step`` fixations (all when None)."""
        rgb = grey_rgb(image)
        first = self.image is None or self.image.shape[:2] != rgb.shape[:2]
        self.image = rgb
        self.image_item.setImage(rgb, autoLevels=False, levels=(0, 255))
        locations = np.asarray(locations)
        steps = len(locations)
        shown = steps if step is None else max(0, min(int(step), steps))
        h, w = rgb.shape[:2]
        self.fixations = [centre_pixel(loc, h, w) for loc in locations[:shown]]
        n = 0
        for t, loc in enumerate(locations[:shown]):
            colour = step_colour(t, steps)
            for k, (top, left, side) in enumerate(glimpse_boxes((h, w), loc, patch, scales,
                                                                ratio)):
                item = self._square(n)
                item.setRect(QRectF(left, top, side, side))
                pen = QPen(colour, 2.0 if t == shown - 1 else 1.2)
                pen.setCosmetic(True)
                colour_k = QColor(colour)
                colour_k.setAlphaF(1.0 if k == 0 else max(0.35, 0.85 - 0.2 * k))
                pen.setColor(colour_k)
                item.setPen(pen)
                item.setVisible(True)
                n += 1
        for item in self._squares[n:]:
            item.setVisible(False)
        self._draw_path(shown)
        if title is not None:
            self.title.setText(title)
        if caption is not None:
            self.caption.setText(caption)
        if first:
            span = patch * ratio ** (scales - 1) / 2
            self.view.setRange(xRange=(-span / 2, w + span / 2),
                               yRange=(-span / 2, h + span / 2), padding=0.0)

    def _draw_path(self, shown: int) -> None:
        points = [(c + 0.5, r + 0.5) for r, c in self.fixations]
        if len(points) > 1:
            xs, ys = zip(*points, strict=True)
            self.path.setData(np.array(xs, float), np.array(ys, float))
        self.path.setVisible(len(points) > 1)
        for i, (x, y) in enumerate(points):
            number = self._number(i)
            number.setText(str(i + 1))
            number.setPos(x, y)
            number.setVisible(True)
        for item in self._numbers[len(points):]:
            item.setVisible(False)
        for i in range(1, len(points)):
            (x0, y0), (x1, y1) = points[i - 1], points[i]
            arrow = self._arrow(i - 1)
            # the arrow points from the previous fixation to this one (ArrowItem's angle 0
            # points left; the view's y axis runs downward)
            angle = math.degrees(math.atan2(y1 - y0, x1 - x0)) + 180.0
            arrow.setStyle(angle=angle)
            back = 0.25                    # a little short of the number, so both show
            arrow.setPos(x1 - back * (x1 - x0), y1 - back * (y1 - y0))
            arrow.setVisible((x0, y0) != (x1, y1))
        for item in self._arrows[max(0, len(points) - 1):]:
            item.setVisible(False)

    def blank(self, caption: str = " ") -> None:
        """Nothing to show: the items hidden, the picture black. (Not ``clear``: that name
        is GraphicsLayoutWidget's own, which empties the whole layout.)"""
        if self.image is not None:
            self.image_item.setImage(np.zeros_like(self.image), autoLevels=False,
                                     levels=(0, 255))
        self.fixations = []
        for item in (*self._squares, *self._numbers, *self._arrows):
            item.setVisible(False)
        self.path.setVisible(False)
        self.caption.setText(caption)
