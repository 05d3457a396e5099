"""What a filter looks for: gradient ascent from grey noise, on demand, with progress and cancel.

    panel = ActivationMaxPanel(); panel.set_run(run_dir)
    panel.choose("c3", 5); panel.start()        # or FiltersPanel.filterClicked → choose
    panel.cancel()
"""

from __future__ import annotations

import threading

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from cnnstudio.core.probes.activation_max import Cancelled, maximize_filter
from cnnstudio.core.probes.filters import conv_layer_names
from cnnstudio.gui.families.classification.insight_panel import InsightPanel
from cnnstudio.gui.widgets.mosaic import BACKGROUND, MosaicView


class ActivationMaxPanel(InsightPanel):
    finished = Signal(object)            # MaxResult
    cancelled = Signal()
    _progress = Signal(int, int, float)  # from the worker thread, queued to the GUI

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layers: dict[str, int] = {}
        self.result = None
        self._cancel = threading.Event()
        self._pending: tuple[str, int] | None = None
        self.layer_box = QComboBox()
        self.filter_box = QSpinBox()
        self.steps_box = QSpinBox()
        self.steps_box.setRange(4, 1000)
        self.steps_box.setValue(64)
        self.run_button = QPushButton("Find what it looks for")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setFormat("step %v of %m")
        bar = QHBoxLayout()
        for label, widget in (("Layer", self.layer_box), ("Filter", self.filter_box),
                              ("Steps", self.steps_box)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addWidget(self.run_button)
        bar.addWidget(self.cancel_button)
        bar.addStretch(1)
        self.picture = MosaicView("Image that excites the filter")
        self.curve_plot = pg.PlotWidget(background=BACKGROUND)
        self.curve_plot.setLabel("bottom", "gradient-ascent step")
        self.curve_plot.setLabel("left", "mean response")
        self.curve_plot.setTitle("Filter response while climbing", color="#e8e8e8", size="10pt")
        self.curve = self.curve_plot.plot([], [], pen=pg.mkPen("#ffa04d", width=2))
        views = QHBoxLayout()
        views.addWidget(self.picture, 3)
        views.addWidget(self.curve_plot, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.progress)
        layout.addLayout(views, 1)
        layout.addWidget(self.status)
        self.layer_box.currentIndexChanged.connect(self._layer_changed)
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self._progress.connect(self._on_progress, Qt.QueuedConnection)
        self._history: list[float] = []

    def model_changed(self) -> None:
        def layers(model):
            return {n: int(model.get_layer(n).output.shape[-1]) for n in conv_layer_names(model)}

        self.compute("layers", layers, self._fill_layers)

    def _fill_layers(self, layers: dict[str, int]) -> None:
        self.layers = layers
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(list(layers))
        self.layer_box.blockSignals(False)
        self._layer_changed()
        if self._pending:
            self.choose(*self._pending)
        self.status.setText("Pick a filter and press the button: the image starts as grey "
                            "noise and is nudged, step by step, to excite that filter most.")
        self.updated.emit()

    def _layer_changed(self) -> None:
        count = self.layers.get(self.layer_box.currentText(), 1)
        self.filter_box.setRange(0, max(count - 1, 0))
        self.filter_box.setSuffix(f" of {count}")

    def choose(self, layer: str, index: int) -> None:
        """Select a filter (e.g. clicked in the filters panel)."""
        if layer not in self.layers:
            self._pending = (layer, index)
            return
        self._pending = None
        self.layer_box.setCurrentText(layer)
        self.filter_box.setValue(index)

    def start(self) -> None:
        layer, index, steps = self.layer_box.currentText(), self.filter_box.value(), \
            self.steps_box.value()
        if not layer:
            return
        self._cancel.clear()
        self._history = []
        cancel, emit = self._cancel, self._progress.emit

        def report(step, total, value):    # the worker thread
            emit(step, total, value)
            if cancel.is_set():
                raise Cancelled()

        def work(model):
            return maximize_filter(model, layer, index, steps=steps, progress=report)

        self.progress.setRange(0, steps)
        self.progress.setValue(0)
        if self.compute("ascent", work, self._done):
            self.run_button.setEnabled(False)
            self.cancel_button.setEnabled(True)
            self.status.setText(f"climbing towards {layer} filter {index}…")

    def cancel(self) -> None:
        self._cancel.set()

    def _on_progress(self, step: int, total: int, value: float) -> None:
        self.progress.setValue(step)
        self._history.append(value)
        self.curve.setData(np.arange(1, len(self._history) + 1), self._history)

    def _idle(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _fail(self, error) -> None:
        self._idle()
        if isinstance(error, Cancelled):
            self.status.setText("Cancelled.")
            self.cancelled.emit()
            return
        super()._fail(error)

    def _done(self, result) -> None:
        self._idle()
        self.result = result
        image = result.image
        rgb = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image
        h, w = image.shape[:2]
        self.picture.show_image(rgb, f"What {result.layer} filter {result.filter_index} looks for",
                                f"{h}×{w} · response {result.start_mean:.3f} on noise → "
                                f"{result.final_mean:.3f}")
        self.curve.setData(np.arange(len(result.activations)), result.activations)
        self.status.setText("Bright and dark strokes show the pattern this filter detects.")
        self.finished.emit(result)
        self.updated.emit()
