"""The bar under the studio in presenter mode: a strip of the lesson's steps (the current
one lit, a click on a segment asks for that step) over the step's caption in large type,
with "3 / 12" and a hint (press → to go on) on its right.

A toolbar in the window's bottom area, so it runs the window's full width under the docks.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QToolBar,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

CAPTION_GROWTH = 1.3     # the caption's type over the (already scaled) application font
GAP = 4                  # pixels between two segments of the strip


class StepStrip(QWidget):
    """One segment per step: done ones in the text colour, the current one in the accent,
    the ones to come faint."""

    clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.captions: list[str] = []
        self.current = -1
        self.setCursor(Qt.PointingHandCursor)
        self.setFixedHeight(14)

    @property
    def count(self) -> int:
        return len(self.captions)

    def set_steps(self, captions: list[str]) -> None:
        self.captions = list(captions)
        self.current = -1
        self.update()

    def set_current(self, index: int) -> None:
        self.current = index
        self.update()

    def set_thickness(self, pixels: int) -> None:
        self.setFixedHeight(max(6, pixels))

    def segment_rect(self, index: int) -> QRectF:
        width = (self.width() - GAP * (self.count - 1)) / max(1, self.count)
        return QRectF(index * (width + GAP), 0, width, self.height())

    def segment_at(self, x: float) -> int:
        if not self.count:
            return -1
        step = self.width() / self.count
        return min(self.count - 1, max(0, int(x // step)))

    def segment_colour(self, index: int) -> QColor:
        if index == self.current:
            return self.palette().highlight().color()
        colour = QColor(self.palette().windowText().color())
        colour.setAlpha(170 if index < self.current else 55)
        return colour

    def paintEvent(self, _event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(Qt.NoPen)
        for i in range(self.count):
            painter.setBrush(self.segment_colour(i))
            painter.drawRoundedRect(self.segment_rect(i), 3, 3)

    def mousePressEvent(self, event):
        index = self.segment_at(event.position().x())
        if index >= 0:
            self.clicked.emit(index)

    def event(self, event):
        if event.type() == QEvent.ToolTip and self.count:      # the step under the pointer
            index = self.segment_at(event.position().x())
            caption = self.captions[index] or "(no caption)"
            QToolTip.showText(event.globalPosition().toPoint(),
                              f"Step {index + 1}: {caption}", self)
            return True
        return super().event(event)


class CaptionBar(QToolBar):
    def __init__(self, parent=None):
        super().__init__("Lesson caption", parent)
        self.setObjectName("presenter_caption_bar")
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)     # not a toolbar the user switches on
        self.setStyleSheet("QToolBar { border-top: 2px solid palette(highlight); }")
        self.strip = StepStrip()
        self.caption = QLabel()
        self.caption.setObjectName("presenterCaption")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.PlainText)
        self.caption.setAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        self.counter = QLabel()
        self.counter.setObjectName("muted")
        self.counter.setAlignment(Qt.AlignRight | Qt.AlignTop)
        self.hint = QLabel()
        self.hint.setObjectName("muted")
        self.hint.setAlignment(Qt.AlignRight | Qt.AlignBottom)
        side = QVBoxLayout()
        side.addWidget(self.counter)
        side.addStretch(1)
        side.addWidget(self.hint)
        row = QHBoxLayout()
        row.addWidget(self.caption, 1)
        row.addLayout(side)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 6, 12, 8)
        layout.addWidget(self.strip)
        layout.addLayout(row)
        self.addWidget(body)
        self.body = body

    def set_type(self, font: QFont) -> None:
        """Sizes from the (scaled) application font: the caption larger still."""
        big = QFont(font)
        big.setPointSizeF(font.pointSizeF() * CAPTION_GROWTH)
        self.caption.setFont(big)
        self.strip.set_thickness(round(self.fontMetrics().height() * 0.45))
        self._fit()

    def set_steps(self, captions: list[str]) -> None:
        self.strip.set_steps(captions)

    def show_step(self, index: int, caption: str) -> None:
        self.strip.set_current(index)
        self.counter.setText(f"{index + 1} / {self.strip.count}")
        self.caption.setStyleSheet("")
        self.caption.setText(caption)
        self._fit()

    def show_error(self, text: str, colour: str) -> None:
        self.caption.setStyleSheet(f"color: {colour};")
        self.caption.setText("⚠ " + text)
        self._fit()

    def set_hint(self, text: str) -> None:
        self.hint.setText(text)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        """A word-wrapped label in a toolbar gets one line's height unless told: two lines at
        least (the bar does not jump between steps), more when the caption needs them."""
        metrics = self.caption.fontMetrics()
        width = max(200, self.caption.width())
        # Measured from the text alone: QLabel.heightForWidth grew with the height set here.
        text = metrics.boundingRect(QRect(0, 0, width, 10_000), Qt.TextWordWrap,
                                    self.caption.text()).height()
        self.caption.setMinimumHeight(max(2 * metrics.lineSpacing(), text) + 4)
