"""Training images ranked by loss, linked to the confusion matrix on the training set: the
lower half of the Suspect labels tab (a widget of that panel, not a tab of its own).

    view.show_ranking(images, labels, rows, probabilities, name)   # name(class index) → str
    view.select_cell(true, predicted)    # only that cell's images; (None, None): all of them
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter

from cnnstudio.core.probes import label_audit as la
from cnnstudio.gui.widgets.mosaic import BACKGROUND, ImageGallery

SHOWN = 200              # thumbnails in the gallery


class LossRanking(QSplitter):
    ranked = Signal()        # the matrix and the ranked images were drawn

    def __init__(self, parent=None):
        super().__init__(parent)
        self.images = self.y = self.probs = None
        self.rows = np.zeros(0, np.int64)        # training indices the model was asked about
        self.cell: tuple[int, int] | None = None
        self.name = str
        self.plot = pg.PlotWidget(background=BACKGROUND, title="Training set: click a cell "
                                  "to filter")
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("left", "given label")
        self.plot.setLabel("bottom", "predicted")
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_item.setColorMap(pg.colormap.get("CET-L3"))
        self.image_item.mouseClickEvent = self._clicked
        self.plot.addItem(self.image_item)
        self.marker = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.marker.setPen(pg.mkPen("#00e5ff", width=3))
        self.marker.setVisible(False)
        self.plot.addItem(self.marker)
        self.gallery = ImageGallery(side=56)
        self.addWidget(self.plot)
        self.addWidget(self.gallery)
        self.setStretchFactor(0, 2)
        self.setStretchFactor(1, 3)

    def clear(self) -> None:
        self.probs, self.cell = None, None
        self.image_item.clear()
        self.marker.setVisible(False)
        self.gallery.set_images([], [], [], "")

    def show_ranking(self, images, y, rows, probabilities, name) -> None:
        """``probabilities``: the model's answer for ``images[rows]`` (given labels ``y``)."""
        self.images, self.rows, self.name = images, np.asarray(rows, np.int64), name
        self.y = np.asarray(y)[self.rows]
        self.probs = la.as_probabilities(probabilities)
        n = self.probs.shape[1]
        cm = la.confusion(self.probs, self.y, n)
        # Each row's share (recall), so a small class's mistakes show as much.
        self.image_item.setImage(cm / np.maximum(cm.sum(axis=1, keepdims=True), 1),
                                 levels=(0, 1))
        ticks = [[(i + 0.5, name(i)) for i in range(n)]] if n <= 20 else None
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTicks(ticks)
        self.plot.setRange(xRange=(0, n), yRange=(0, n), padding=0.02)
        self.select_cell(*(self.cell or (None, None)))

    def select_cell(self, true: int | None, predicted: int | None) -> np.ndarray:
        """Keep only confusion cell (true, predicted), highest loss first; returns their
        training indices. (None, None): all of them."""
        if self.probs is None:
            return np.zeros(0, np.int64)
        self.cell = None if true is None else (true, predicted)
        self.marker.setVisible(self.cell is not None)
        if self.cell is not None:
            self.marker.setRect(predicted, true, 1, 1)
        order = la.ranked_by_loss(self.probs, self.y, true, predicted)
        loss = la.losses(self.probs[order[:SHOWN]], self.y[order[:SHOWN]])
        shown, predicted_all = order[:SHOWN], self.probs.argmax(axis=1)
        where = (f"given {self.name(true)}, predicted {self.name(predicted)}" if self.cell
                 else "all classes (click a cell of the matrix to filter; again for all)")
        header = (f"<b>Training images ranked by loss</b> under the run's own model: "
                  f"{len(order)} of {len(self.rows)} · {where}")
        captions = [f"{self.name(int(self.y[k]))} → {self.name(int(predicted_all[k]))}\n"
                    f"loss {value:.1f}" for k, value in zip(shown, loss, strict=True)]
        colours = ["#d93025" if predicted_all[k] != self.y[k] else None for k in shown]
        self.gallery.set_images(self.images[self.rows[shown]], captions, self.rows[shown],
                                header, colours)
        self.ranked.emit()
        return self.rows[order]

    def _clicked(self, event) -> None:
        if self.probs is None or event.button() != Qt.LeftButton:
            return
        t, q = int(event.pos().y()), int(event.pos().x())
        n = self.probs.shape[1]
        if 0 <= t < n and 0 <= q < n:
            event.accept()
            self.select_cell(*((None, None) if self.cell == (t, q) else (t, q)))
