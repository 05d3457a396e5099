"""A vertical-only scroll area that is never narrower than its content (no clipped fields).

A plain QScrollArea with its minimum width set once, not a subclass overriding
``minimumSizeHint``: Python overrides that Qt calls while a window is being torn
down crashed PySide 6.12 during garbage collection.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


def vscroll(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    area.setWidget(widget)
    area.setMinimumWidth(widget.minimumSizeHint().width()
                         + area.verticalScrollBar().sizeHint().width())
    return area
