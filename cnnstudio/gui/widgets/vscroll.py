"""Scroll areas that keep a small screen usable: ``scroller`` for docks and tab pages,
``vscroll`` for a vertical-only area never narrower than its content (no clipped fields).

A plain QScrollArea with its minimum width set once, not a subclass overriding
``minimumSizeHint``: Python overrides that Qt calls while a window is being torn
down crashed PySide 6.12 during garbage collection.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


def scroller(widget: QWidget, min_width: int = 0) -> QScrollArea:
    """A scroll area in both directions, for a dock or a tab page: a small screen gets
    scroll bars instead of a window wider or taller than the screen."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    area.setWidget(widget)
    if min_width:
        area.setMinimumWidth(min_width)
    return area


def vscroll(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    area.setWidget(widget)
    area.setMinimumWidth(widget.minimumSizeHint().width()
                         + area.verticalScrollBar().sizeHint().width())
    return area
