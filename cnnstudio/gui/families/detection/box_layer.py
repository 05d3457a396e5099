"""Boxes with a label at their corner over a pyqtgraph ViewBox: the items are made once and
reused (hidden when not needed), so stepping through hundreds of proposals stays quick.
The pipeline stepper and the R-CNN story draw with it."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem


class BoxLayer:
    def __init__(self, box: pg.ViewBox, width: float = 2.0):
        self.box, self.width = box, width
        self.rects: list[QGraphicsRectItem] = []
        self.texts: list[pg.TextItem] = []

    def draw(self, boxes, colours, labels=()) -> None:
        """``boxes`` [y1, x1, y2, x2]; a QColor or (r, g, b) per box; labels for the first
        ``len(labels)`` boxes."""
        while len(self.rects) < len(boxes):
            rect = QGraphicsRectItem()
            self.box.addItem(rect)
            self.rects.append(rect)
            text = pg.TextItem(anchor=(0, 1), fill=pg.mkBrush(0, 0, 0, 150))
            self.box.addItem(text)
            self.texts.append(text)
        for i, (rect, text) in enumerate(zip(self.rects, self.texts, strict=True)):
            shown = i < len(boxes)
            rect.setVisible(shown)
            text.setVisible(shown and i < len(labels))
            if not shown:
                continue
            colour = colours[i] if isinstance(colours[i], QColor) else QColor(*colours[i])
            y1, x1, y2, x2 = (float(v) for v in boxes[i])
            pen = QPen(colour, self.width)
            pen.setCosmetic(True)
            rect.setPen(pen)
            rect.setRect(QRectF(x1, y1, x2 - x1, y2 - y1))
            if i < len(labels):
                text.setText(labels[i], color=colour)
                text.setPos(x1, y1)

    def drawn(self) -> int:
        """Box items on screen now (tests)."""
        return sum(1 for rect in self.rects if rect.isVisible())
