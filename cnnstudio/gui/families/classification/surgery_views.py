"""The "Cut it" tab's two plots: the cut model's confusion matrix (counts, each with its
change from the uncut model, coloured by whether the cut made that cell worse or better)
and a layer's filters ranked by the accuracy lost without each."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont

from cnnstudio.core.probes.filters import FilterView, filter_view
from cnnstudio.gui.widgets.mosaic import BACKGROUND, colourise

OFF_TINT = np.array([217, 48, 37], np.float32)


def filter_grid(kernel: np.ndarray, layer: str, off) -> tuple[FilterView, np.ndarray]:
    """The layer's filters drawn as the Filters tab draws them (uint8 RGB), the ones
    switched off tinted red."""
    view = filter_view(kernel, layer, "auto", 0, "filter")
    mosaic = view.mosaic
    rgb = colourise(mosaic.image, "CET-L1")
    th, tw = mosaic.tile_shape
    for f in off:
        x, y = mosaic.tile_origin(f)
        tile = rgb[y:y + th, x:x + tw].astype(np.float32)
        rgb[y:y + th, x:x + tw] = np.round(0.35 * tile + 0.65 * OFF_TINT).astype(np.uint8)
    return view, rgb


class ConfusionChange(pg.PlotWidget):
    """The cut model's confusion matrix: counts, the change from the uncut model under
    each, coloured red where the cut made things worse and blue where better."""

    def __init__(self):
        super().__init__(background=BACKGROUND)
        self.setAspectLocked(True)
        self.invertY(True)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.setLabel("left", "true class")
        self.setLabel("bottom", "predicted class")
        self.image = pg.ImageItem(axisOrder="row-major")
        # Better → blue, no change → the dark ground (light text reads on all), worse → red.
        self.image.setColorMap(pg.ColorMap([0.0, 0.5, 1.0], ["#1a73e8", "#34343a", "#d93025"]))
        self.addItem(self.image)
        self.texts: list[pg.TextItem] = []

    def draw(self, before: np.ndarray, after: np.ndarray, names: list[str]) -> None:
        n = len(after)
        delta = after.astype(np.int64) - before.astype(np.int64)
        worse = np.where(np.eye(n, dtype=bool), -delta, delta)     # fewer right, more wrong
        top = max(1, int(np.abs(worse).max()))
        self.image.setImage(worse.astype(np.float32), levels=(-top, top))
        font = QFont()
        font.setPixelSize(10 if n <= 10 else 8)
        while len(self.texts) < n * n:
            item = pg.TextItem(anchor=(0.5, 0.5), color="#f0f0f0")
            item.setFont(font)
            self.addItem(item)
            self.texts.append(item)
        for k, item in enumerate(self.texts):
            t, p = divmod(k, n)
            item.setVisible(k < n * n and n <= 20)
            if k < n * n and n <= 20:
                change = f"\n{delta[t, p]:+d}" if delta[t, p] else ""
                item.setText(f"{after[t, p]}{change}" if after[t, p] or change else "")
                item.setPos(p + 0.5, t + 0.5)
        ticks = [[(i + 0.5, names[i] if i < len(names) else str(i)) for i in range(n)]]
        self.getAxis("left").setTicks(ticks)
        self.getAxis("bottom").setTicks(ticks)
        self.setRange(xRange=(0, n), yRange=(0, n), padding=0.02)


class RankingChart(pg.PlotWidget):
    """Bars of accuracy drop in points, largest first, each labelled with its filter."""

    def __init__(self):
        super().__init__()
        self.setLabel("left", "accuracy drop (points)")
        self.setLabel("bottom", "filter, largest drop first")
        self.setMouseEnabled(False, False)
        self.setMinimumHeight(130)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush="#d93025")
        self.addItem(self.bars)

    def draw(self, ranking: list[tuple[int, float, float]]) -> None:
        drops = [100 * d for _, _, d in ranking]
        # Blue: a filter the network does better without (on this sample).
        self.bars.setOpts(x=np.arange(len(drops)), height=drops,
                          brushes=[QColor("#d93025" if d > 0 else "#1a73e8") for d in drops])
        self.getAxis("bottom").setTicks([[(i, str(f)) for i, (f, _, _) in enumerate(ranking)]])
        if drops:
            self.setXRange(-0.6, len(drops) - 0.4, padding=0)
            self.setYRange(min(0.0, *drops), max(0.5, *drops), padding=0.05)
