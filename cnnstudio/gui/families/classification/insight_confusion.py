"""Confusion matrix panel (chapter 3): counts, per-class precision/recall/F1, linked images.

    panel = ConfusionPanel(); panel.set_run(run_dir)          # predicts the test split once
    panel.cellSelected → (true, predicted, indices); the gallery below shows exactly those
    panel.imageActivated → (image, caption) for feature maps, Grad-CAM and prediction
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.probes.confusion import SplitPredictions, cell_indices, class_metrics
from cnnstudio.gui.families.classification.insight_panel import InsightPanel
from cnnstudio.gui.widgets.mosaic import BACKGROUND, ImageGallery

CELL_LIMIT = 300         # thumbnails shown for one cell (the diagonal of a big test set)


class PredictionsPanel(InsightPanel):
    """Base for panels over the test split's predictions (confusion matrix, error gallery)."""
    imageActivated = Signal(object, str)      # image (uint8 H×W×C), caption

    predictions: SplitPredictions | None = None
    # True while the runner is a training run's: the test split is predicted between
    # batches, so only when the tab is on screen (InsightTabs refreshes it each epoch).
    live = False

    def model_changed(self) -> None:
        if self.live and not self.isVisible():
            return
        self.refresh()

    def refresh(self) -> None:
        if self.run_dir is None or self.runner is None:
            return
        run_dir = self.run_dir
        self.status.setText("predicting the test images with the model training now…"
                            if self.live else "predicting the test images…")
        self.compute("predictions", lambda m: SplitPredictions.for_run(run_dir, model=m),
                     self.set_predictions)

    def set_predictions(self, predictions: SplitPredictions) -> None:
        self.predictions = predictions
        if not self.class_names:
            self.class_names = list(predictions.class_names)
        self.show_predictions()

    def show_predictions(self) -> None:
        raise NotImplementedError

    def caption(self, index: int) -> str:
        p = self.predictions
        t, q = int(p.y_true[index]), int(p.y_pred[index])
        return f"test #{index} · true {self.class_name(t)} · predicted {self.class_name(q)}"

    def activate(self, index: int) -> None:
        self.imageActivated.emit(self.predictions.images[index], self.caption(index))


class ConfusionPanel(PredictionsPanel):
    cellSelected = Signal(int, int, object)   # true class, predicted class, test indices

    def __init__(self, parent=None):
        super().__init__(parent)
        self.cm = None
        self.selected: tuple[int, int] | None = None
        self.plot = pg.PlotWidget(background=BACKGROUND)
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("left", "true class")
        self.plot.setLabel("bottom", "predicted class")
        self.plot.setTitle("Confusion matrix — click a cell", color="#e8e8e8", size="10pt")
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_item.setColorMap(pg.colormap.get("CET-L3"))
        self.image_item.mouseClickEvent = self._clicked
        self.plot.addItem(self.image_item)
        self.marker = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.marker.setPen(pg.mkPen("#00e5ff", width=3))
        self.marker.setVisible(False)
        self.plot.addItem(self.marker)
        self.texts: list[pg.TextItem] = []
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["precision", "recall", "F1", "images"])
        self.table.setMinimumWidth(260)
        self.accuracy = QLabel("")
        self.gallery = ImageGallery(side=64)
        self.gallery.imageClicked.connect(self.activate)
        top = QSplitter()
        top.addWidget(self.plot)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        self.accuracy.setWordWrap(True)
        side_layout.addWidget(self.accuracy)
        side_layout.addWidget(self.table, 1)
        top.addWidget(side)
        top.setStretchFactor(0, 3)
        split = QSplitter(Qt.Vertical)
        split.addWidget(top)
        split.addWidget(self.gallery)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

    def show_predictions(self) -> None:
        p = self.predictions
        n = len(self.class_names)
        self.cm = cm = p.confusion()
        # Colour by the row's share (recall), so a small class's mistakes are as visible.
        share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        self.image_item.setImage(share, levels=(0, 1))
        self._write_counts(cm, share)
        names = [self.class_name(i) for i in range(n)]
        ticks = [[(i + 0.5, names[i]) for i in range(n)]]
        self.plot.getAxis("left").setTicks(ticks)
        self.plot.getAxis("bottom").setTicks(ticks)
        self.plot.setRange(xRange=(0, n), yRange=(0, n), padding=0.02)
        m = class_metrics(cm)
        self.table.setRowCount(n)
        self.table.setVerticalHeaderLabels(names)
        for i in range(n):
            for j, value in enumerate((f"{m.precision[i]:.2f}", f"{m.recall[i]:.2f}",
                                       f"{m.f1[i]:.2f}", str(int(m.support[i])))):
                item = QTableWidgetItem(value)
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self.accuracy.setText(f"<b>accuracy {m.accuracy:.1%}</b> on {int(cm.sum())} test images"
                              f"<br><small>precision: of the images predicted as a class, the "
                              f"share that is it · recall: of a class's images, the share "
                              f"found</small>")
        self.status.setText("Rows are the true classes, columns the predictions; the diagonal "
                            "is right. Click a cell to see its images.")
        self.updated.emit()

    def _write_counts(self, cm, share) -> None:
        n = cm.shape[0]
        font = QFont()
        font.setPixelSize(11 if n <= 10 else 8)
        while len(self.texts) < n * n:
            item = pg.TextItem(anchor=(0.5, 0.5))
            item.setFont(font)
            self.plot.addItem(item)
            self.texts.append(item)
        for k, item in enumerate(self.texts):
            if k >= n * n or n > 20:        # 100 classes: colours only, counts in tooltips
                item.setVisible(False)
                continue
            t, q = divmod(k, n)
            item.setText(str(int(cm[t, q])) if cm[t, q] else "")
            item.setColor(QColor("#111111" if share[t, q] > 0.5 else "#f0f0f0"))
            item.setPos(q + 0.5, t + 0.5)
            item.setVisible(True)

    def _clicked(self, event) -> None:
        if self.cm is None or event.button() != Qt.LeftButton:
            return
        pos = event.pos()
        t, q = int(pos.y()), int(pos.x())
        if 0 <= t < len(self.cm) and 0 <= q < len(self.cm):
            event.accept()
            self.select_cell(t, q)

    def select_cell(self, true_class: int, predicted: int) -> np.ndarray:
        """Show exactly the test images of cell (true, predicted) in the gallery."""
        p = self.predictions
        idx = cell_indices(p.y_true, p.y_pred, true_class, predicted)
        self.selected = (true_class, predicted)
        self.marker.setRect(predicted, true_class, 1, 1)
        self.marker.setVisible(True)
        shown = idx[:CELL_LIMIT]
        probs = p.probs[shown, predicted]
        right = true_class == predicted
        header = (f"<b>true {self.class_name(true_class)} → predicted "
                  f"{self.class_name(predicted)}</b>: {len(idx)} image(s)"
                  + (f", first {CELL_LIMIT} shown" if len(idx) > CELL_LIMIT else "")
                  + " · click one to look inside the network")
        self.gallery.set_images(p.images[shown], [f"#{i} · {pr:.0%}" for i, pr in
                                                   zip(shown, probs, strict=True)],
                                shown, header, ["#188038" if right else "#d93025"] * len(shown),
                                [self.caption(int(i)) for i in shown])
        self.cellSelected.emit(true_class, predicted, idx)
        self.updated.emit()
        return idx
