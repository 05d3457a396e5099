"""A one-line label that never widens its window: a long text is cut with "…" to the width it
is given, and the whole text is its tooltip.

The cut is made in ``resizeEvent`` (a plain Python override of an event handler); the
label's minimum width comes from its size policy (Ignored), not from an overridden
``minimumSizeHint`` (Python overrides that Qt calls during teardown crashed PySide 6.12).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy


class ElidedLabel(QLabel):
    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.full_text = ""
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.setMinimumWidth(80)
        self.setText(text)

    def setText(self, text: str) -> None:       # noqa: N802 (Qt's name)
        self.full_text = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:
        """The whole text (what is shown may be cut)."""
        return self.full_text

    def text_shown(self) -> str:
        return super().text()

    def resizeEvent(self, event):                # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.width(), self.minimumWidth())
        shown = self.fontMetrics().elidedText(self.full_text, Qt.ElideRight, width)
        QLabel.setText(self, shown)
