"""Top-k class probabilities as horizontal bars with the class name and the percentage."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

VIEW_HEIGHT = 150


class TopBars(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[tuple[str, float]] = []
        self.accent = QColor("#1a73e8")
        self.setMinimumHeight(VIEW_HEIGHT)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)

    def set_rows(self, rows: list[tuple[str, float]]) -> None:
        self.rows = list(rows)
        self.setToolTip("\n".join(f"{name}: {p:.2%}" for name, p in self.rows))
        self.update()

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        text = self.palette().windowText().color()
        if not self.rows:
            painter.setPen(text)
            painter.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap,
                             "The five most likely classes appear here.")
            return
        n = max(5, len(self.rows))
        row_h = self.height() / n
        label_w = min(140, self.width() * 0.35)
        pct_w = 62
        bar_w = max(10.0, self.width() - label_w - pct_w - 12)
        metrics = painter.fontMetrics()
        for i, (name, p) in enumerate(self.rows):
            y = i * row_h
            painter.setPen(text)
            # A long class name ("Empty desk") ends in "…" rather than losing its start.
            shown = metrics.elidedText(name, Qt.ElideRight, int(label_w - 6))
            painter.drawText(QRectF(0, y, label_w - 6, row_h), Qt.AlignRight | Qt.AlignVCenter,
                             shown)
            track = QRectF(label_w, y + row_h * 0.2, bar_w, row_h * 0.6)
            painter.fillRect(track, self.palette().alternateBase())
            colour = QColor(self.accent)
            if i:
                colour.setAlpha(150)
            painter.fillRect(QRectF(track.x(), track.y(), bar_w * max(0.0, min(1.0, p)),
                                    track.height()), colour)
            painter.drawText(QRectF(label_w + bar_w + 6, y, pct_w, row_h),
                             Qt.AlignLeft | Qt.AlignVCenter, f"{p:.1%}")
        painter.end()
