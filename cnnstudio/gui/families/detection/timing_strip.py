"""Why each detector was invented, in one picture: its milliseconds per image on this
machine as a bar, and how many times it ran its CNN (R-CNN once per proposal; Fast R-CNN
and later once per image)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QSizePolicy

from cnnstudio.gui.widgets.mosaic import BACKGROUND

# Selective search in one colour wherever it is paid; the networks' own parts in another.
PART_COLOURS = {"selective search": (122, 140, 168), "NMS": (150, 150, 150)}
NETWORK = (240, 170, 70)


class TimingStrip(pg.PlotWidget):
    def __init__(self, parent=None):
        super().__init__(parent, background=BACKGROUND)
        self.setFixedHeight(118)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        item = self.getPlotItem()
        item.hideAxis("left")
        item.setLabel("bottom", "milliseconds per image (this machine)")
        item.setMenuEnabled(False)
        self.rows: list = []
        self._items: list = []

    def set_rows(self, rows) -> None:
        """(name, [(part, ms), …], CNN passes) per model, drawn top to bottom as a bar of
        its parts end to end."""
        self.rows = list(rows)
        for item in self._items:
            self.removeItem(item)
        self._items = []
        if not rows:
            return
        n = len(rows)
        totals = [sum(ms for _, ms in parts) for _, parts, _ in rows]
        for i, ((name, parts, calls), total) in enumerate(zip(rows, totals, strict=True)):
            y, x = n - 1 - i, 0.0
            for part, ms in parts:
                colour = PART_COLOURS.get(part, NETWORK)
                bar = pg.BarGraphItem(x0=[x], y=[y], width=[ms], height=0.7,
                                      brush=pg.mkBrush(*colour), pen=pg.mkPen(BACKGROUND))
                self._items.append(bar)
                self.addItem(bar)
                x += ms
            passes = "once per proposal" if calls > 1 else "once per image"
            spent = " + ".join(f"{part} {ms:.0f}" for part, ms in parts if ms >= 0.5)
            label = pg.TextItem(f"{name}: {total:.0f} ms ({spent}) · CNN ×{calls}, {passes}",
                                color="#f4f4f4", anchor=(0, 0.5), fill=pg.mkBrush(0, 0, 0, 110))
            label.setPos(0, y)
            self._items.append(label)
            self.addItem(label)
        self.setXRange(0, max(totals) * 1.02 or 1.0, padding=0)
        self.setYRange(-0.5, n - 0.5, padding=0)
