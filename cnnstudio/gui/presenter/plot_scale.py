"""Large type and thick lines in every pyqtgraph plot of a window, and back.

The application font reaches the widgets, but pyqtgraph keeps its own sizes: pens in
pixels, titles and legends in points written into their HTML, axis labels in text items
made once. ``apply`` walks every plot scene under a widget and scales those; each item
remembers its own value and the one set here, so a second ``apply`` (a tab built since,
or another factor) starts from the item's own value again, a value a panel set meanwhile
(a theme change resets pens) is taken as the item's new own value, and ``restore`` puts
back only what is still as it was set here.
"""

from __future__ import annotations

import re

import pyqtgraph as pg
from PySide6.QtGui import QFont, QPen
from PySide6.QtWidgets import QWidget

_MARK = "_presenter_scaled"        # attribute on an item: {what: (own value, value set here)}


def apply(root: QWidget, factor: float, font: QFont) -> int:
    """Scale the plots under ``root`` by ``factor``, their text to ``font``; returns how many
    items were changed (tests, and nothing to do when 0)."""
    changed = 0
    for item in _items(root):
        changed += _scale(item, factor, font)
    return changed


def restore(root: QWidget) -> None:
    for item in _items(root):
        for what, (own, applied) in getattr(item, _MARK, {}).items():
            if _key(_current(item, what)) == _key(applied):
                _set(item, what, own)
        if hasattr(item, _MARK):
            delattr(item, _MARK)


def _items(root: QWidget):
    for view in root.findChildren(pg.GraphicsView):
        scene = view.scene()
        if scene is not None:
            yield from scene.items()


def _scale(item, factor: float, font: QFont) -> int:
    targets = {}
    if isinstance(item, pg.PlotDataItem):
        targets["pen"] = lambda own: _wider(own, factor)
        targets["symbolSize"] = lambda own: own * factor
    elif isinstance(item, pg.PlotCurveItem) and not isinstance(item.parentItem(), pg.PlotDataItem):
        targets["pen"] = lambda own: _wider(own, factor)
    elif isinstance(item, pg.AxisItem):
        targets["tickFont"] = lambda own: QFont(font)
        targets["labelFont"] = lambda own: QFont(font)
    elif isinstance(item, pg.LegendItem):
        targets["legendSize"] = lambda own: _bigger(own, factor)
    elif isinstance(item, pg.LabelItem) and not isinstance(item.parentItem(), pg.LegendItem):
        targets["labelSize"] = lambda own: _bigger(own, factor) if own else None
        targets["labelFont"] = lambda own: QFont(font)
    marks = getattr(item, _MARK, {})
    changed = 0
    for what, scaled in targets.items():
        current = _get(item, what)
        if current is None and what in ("pen", "symbolSize"):
            continue                                  # no line (a scatter) or no symbol
        own = marks[what][0] if what in marks and _key(current) == _key(marks[what][1]) \
            else current                              # ours, or a panel's new own value
        value = scaled(own)
        if value is None:
            continue
        marks[what] = (own, value)
        _set(item, what, value)
        changed += 1
    if marks:
        setattr(item, _MARK, marks)
    return changed


def _wider(pen, factor: float) -> QPen:
    pen = QPen(pen)
    pen.setWidthF(max(pen.widthF(), 1.0) * factor)     # width 0 is Qt's one-pixel line
    pen.setCosmetic(True)
    return pen


def _bigger(size, factor: float):
    """'8pt' → '14pt' (CSS sizes pyqtgraph writes into its labels' HTML)."""
    match = re.fullmatch(r"\s*([\d.]+)\s*(pt|px)\s*", str(size or ""))
    if not match:
        return size
    return f"{float(match.group(1)) * factor:.1f}{match.group(2)}"


def _get(item, what):
    if what == "pen":
        return item.opts.get("pen")
    if what == "symbolSize":
        return item.opts.get("symbolSize") if item.opts.get("symbol") is not None else None
    if what == "tickFont":
        return item.style.get("tickFont")
    if what == "labelFont":
        return QFont(item.label.font() if isinstance(item, pg.AxisItem) else item.item.font())
    if what == "legendSize":
        return item.opts.get("labelTextSize")
    if what == "labelSize":
        return item.opts.get("size")
    raise KeyError(what)


_current = _get


def _set(item, what, value) -> None:
    if what == "pen":
        item.setPen(value)
    elif what == "symbolSize":
        item.setSymbolSize(value)
    elif what == "tickFont":
        item.setStyle(tickFont=value)          # also re-measures the axis
    elif what == "labelFont":
        if isinstance(item, pg.AxisItem):
            item.label.setFont(value)
            item._updateLabel()          # pyqtgraph's own re-layout of the axis label
        else:
            item.item.setFont(value)
            item.setText(item.text)
    elif what == "legendSize":
        item.setLabelTextSize(value)
        for _sample, label in item.items:      # pyqtgraph stores the size but keeps the text
            label.setText(label.text)
        item.updateSize()
    elif what == "labelSize":
        if value is None:
            item.opts.pop("size", None)
        else:
            item.opts["size"] = value
        item.setText(item.text)


def _key(value):
    """A comparable form of a pen, a font or a size."""
    if isinstance(value, QPen):
        return ("pen", value.color().rgba(), round(value.widthF(), 3), int(value.style().value))
    if isinstance(value, QFont):
        return ("font", value.toString())
    return value
