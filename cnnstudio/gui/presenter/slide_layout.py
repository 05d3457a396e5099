"""Presenter mode reads like a slide: the centre tab gets the room, and a dock shows only
while the lesson is using it.

``docks_for_step`` is the rule: the dock a ``dock`` step raised, or the Prediction dock an
``image`` step dropped a picture into, stays up for the steps after it until a ``tab``,
``dock`` or ``preset`` step moves the class's eyes elsewhere. ``show_only`` applies it to a
window (the rest hidden, the one shown given a readable width), and ``fit_galleries`` gives
the thumbnail grids (Errors, Confusion) cells wide enough for their captions at the
presenter's type size, since a grid's cell size is set in pixels for the normal font.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QListView

# The share of the window a shown side dock takes (the centre keeps the rest) — more, up
# to SIDE_MAX_SHARE, for a panel that asks for it (the autoencoder's four pictures in a
# row) — and the height the bottom Runs table takes.
SIDE_SHARE = 0.36
SIDE_MAX_SHARE = 0.45
BOTTOM_SHARE = 0.34
_GRID = "_presenter_grid"        # attribute on a list view: its own grid size
_WATCHED = "_presenter_watched"  # its model's rowsInserted is connected to a re-fit


def docks_for_step(steps, index: int) -> set[str]:
    """The docks that show at step ``index``: the one the latest dock or image step brought
    forward, unless a tab or preset step came after it."""
    for step in reversed(steps[:index + 1]):
        if step.kind == "dock":
            return {step.fields["dock"]}
        if step.kind == "image":
            return {"prediction"}
        if step.kind in ("tab", "preset"):
            return set()
    return set()


def show_only(window, keys: set[str]) -> None:
    """Show the docks ``keys`` (raised, sized to read), hide every other one."""
    shown = []
    for key, dock in window.docks.items():
        if key in keys:
            if dock.isHidden():
                dock.show()
            dock.raise_()
            shown.append(dock)
        elif not dock.isHidden():
            dock.hide()
    size_docks(window, shown)


def size_docks(window, docks) -> None:
    width, height = window.width(), window.height()
    for dock in docks:
        area = window.dockWidgetArea(dock)
        if area in (Qt.TopDockWidgetArea, Qt.BottomDockWidgetArea):
            window.resizeDocks([dock], [int(height * BOTTOM_SHARE)], Qt.Vertical)
        else:
            wanted = min(max(_wanted_width(dock), width * SIDE_SHARE), width * SIDE_MAX_SHARE)
            window.resizeDocks([dock], [int(wanted)], Qt.Horizontal)


def _wanted_width(dock) -> int:
    """The width the dock's panel asks for (inside the dock's scroll area), with room for
    a vertical scroll bar."""
    area = dock.widget()
    panel = area.widget() if hasattr(area, "widget") and callable(area.widget) else area
    if panel is None:
        return 0
    bar = area.verticalScrollBar().sizeHint().width() if hasattr(area, "verticalScrollBar") \
        else 0
    return panel.sizeHint().width() + bar + 8


def fit_galleries(root) -> None:
    """Every thumbnail grid under ``root`` gets cells its captions fit in, in the font it
    has now (grids built later are fitted as their thumbnails arrive)."""
    for view in root.findChildren(QListView):
        if view.viewMode() != QListView.IconMode or not view.gridSize().isValid():
            continue
        if not hasattr(view, _GRID):
            setattr(view, _GRID, QSize(view.gridSize()))
        if not getattr(view, _WATCHED, False):
            view.model().rowsInserted.connect(lambda *_a, v=view: _refit(v))
            setattr(view, _WATCHED, True)
        _fit(view)


def restore_galleries(root) -> None:
    for view in root.findChildren(QListView):
        own = getattr(view, _GRID, None)
        if own is not None:
            view.setGridSize(own)
            delattr(view, _GRID)


def _refit(view) -> None:
    if hasattr(view, _GRID):             # only while presenting
        _fit(view)


def _fit(view) -> None:
    own: QSize = getattr(view, _GRID)
    metrics = view.fontMetrics()
    model = view.model()
    lines, widest = 1, 0
    for row in range(model.rowCount()):
        text = str(model.data(model.index(row, 0)) or "")
        parts = text.split("\n")
        lines = max(lines, len(parts))
        widest = max([widest, *(metrics.horizontalAdvance(p) for p in parts)])
    icon = view.iconSize()
    width = max(own.width(), icon.width() + 8, widest + 16)
    height = max(own.height(), icon.height() + lines * metrics.lineSpacing() + 14)
    if view.gridSize() != QSize(width, height):
        view.setGridSize(QSize(width, height))
