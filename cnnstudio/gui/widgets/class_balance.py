"""A small horizontal bar chart of images per class, painted directly (crisp at any size).

    view = ClassBalanceView(); view.set_counts(["cat", "dog"], [1000, 250])
    view.bars() → [(name, count, QRectF), …]: one bar per class, width ∝ count

Up to a dozen classes get a labelled row each; more classes share a fixed height
(thin bars, name and count in the tooltip) so 62 traffic signs still fit a dock.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

ROW = 14            # labelled rows up to this height
MAX_HEIGHT = 150    # all the rows together, for many classes
NAME_WIDTH = 84
COUNT_WIDTH = 52


class ClassBalanceView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.names: list[str] = []
        self.counts: list[int] = []
        self.highlight: set[int] = set()     # rows drawn in the warning colour
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def set_counts(self, names: list[str], counts: list[int], highlight=()) -> None:
        self.names, self.counts = list(names), [int(c) for c in counts]
        self.highlight = set(highlight)
        self.setFixedHeight(self._height())
        self.update()

    # -- geometry ----------------------------------------------------------
    def _row(self) -> float:
        n = max(len(self.counts), 1)
        return min(ROW, MAX_HEIGHT / n)

    def _height(self) -> int:
        return int(round(self._row() * len(self.counts))) + 2 if self.counts else 0

    def _labelled(self) -> bool:
        return self._row() >= 11

    def bars(self) -> list[tuple[str, int, QRectF]]:
        """One (name, count, rectangle) per class; the rectangle's width is ∝ its count."""
        row, labelled = self._row(), self._labelled()
        left = NAME_WIDTH + 6 if labelled else 0
        right = COUNT_WIDTH if labelled else 0
        span = max(self.width() - left - right, 10)
        top = max(self.counts, default=0) or 1
        gap = 3 if row >= 6 else (1 if row >= 3 else 0)
        return [(name, count, QRectF(left, i * row + gap / 2, span * count / top,
                                     max(row - gap, 1)))
                for i, (name, count) in enumerate(zip(self.names, self.counts, strict=True))]

    # -- painting ----------------------------------------------------------
    def paintEvent(self, event):
        painter = QPainter(self)
        palette = self.palette()
        accent = palette.color(QPalette.Highlight)
        warn = QColor("#d98e04")
        text = palette.color(QPalette.WindowText)
        labelled, row = self._labelled(), self._row()
        painter.setPen(Qt.NoPen)
        for i, (name, count, rect) in enumerate(self.bars()):
            painter.setBrush(warn if i in self.highlight else accent)
            painter.drawRect(rect)
            if labelled:
                painter.setPen(text)
                y = i * row
                painter.drawText(QRectF(0, y, NAME_WIDTH, row),
                                 Qt.AlignRight | Qt.AlignVCenter,
                                 painter.fontMetrics().elidedText(name, Qt.ElideRight,
                                                                  NAME_WIDTH))
                painter.drawText(QRectF(rect.right() + 4, y, COUNT_WIDTH, row),
                                 Qt.AlignLeft | Qt.AlignVCenter, f"{count:,}")
                painter.setPen(Qt.NoPen)
        painter.end()

    def mouseMoveEvent(self, event):
        if self.counts:
            i = int(event.position().y() // self._row())
            if 0 <= i < len(self.counts):
                QToolTip.showText(event.globalPosition().toPoint(),
                                  f"{self.names[i]}: {self.counts[i]:,} training images", self)
        super().mouseMoveEvent(event)
