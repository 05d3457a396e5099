"""Why each detector was invented, in one picture: its milliseconds per image on this
machine as a bar, and how many times it ran its CNN (R-CNN once per proposal; Fast R-CNN
and later once per image)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QSizePolicy

from cnnstudio.gui.widgets.mosaic import BACKGROUND

COLOURS = ((230, 120, 90), (240, 190, 70), (110, 190, 240))


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
        self.rows: list[tuple[str, float, int]] = []
        self._items: list = []

    def set_rows(self, rows: list[tuple[str, float, int]]) -> None:
        """(name, ms, CNN passes) per model, drawn top to bottom."""
        self.rows = list(rows)
        for item in self._items:
            self.removeItem(item)
        self._items = []
        if not rows:
            return
        n = len(rows)
        longest = max(ms for _, ms, _ in rows) or 1.0
        for i, (name, ms, calls) in enumerate(rows):
            y = n - 1 - i
            bar = pg.BarGraphItem(x0=[0], y=[y], width=[ms], height=0.7,
                                  brush=pg.mkBrush(*COLOURS[i % len(COLOURS)]), pen=None)
            passes = "once per proposal" if calls > 1 else "once per image"
            label = pg.TextItem(f"{name}: {ms:.0f} ms · CNN ×{calls} ({passes})",
                                color="#f0f0f0", anchor=(0, 0.5))
            label.setPos(0, y)
            self._items += [bar, label]
            self.addItem(bar)
            self.addItem(label)
        self.setXRange(0, longest * 1.02, padding=0)
        self.setYRange(-0.5, n - 0.5, padding=0)
