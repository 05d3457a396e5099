"""Filters panel: a conv layer's kernels as an image grid, refreshed each epoch.

    panel = FiltersPanel(); panel.set_run(run_dir)       # or set_runner(control.submit)
    panel.refresh()                                      # after each EpochEnd
    panel.show_kernels({"c1": kernel, …})                # or straight from stored probes
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QApplication, QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout

from cnnstudio.core.probes.filters import conv_kernels, filter_view
from cnnstudio.gui.families.classification.insight_panel import InsightPanel
from cnnstudio.gui.widgets.mosaic import MosaicView, refill_combo

MODE_ITEMS = [("Auto", "auto"), ("RGB patches", "rgb"), ("Averaged over inputs", "average"),
              ("One input channel", "channel"), ("Every input channel", "all")]
NORM_ITEMS = [("Per filter", "filter"), ("Per layer", "layer"), ("Signed (0 = middle)", "signed")]
CMAP_ITEMS = [("Grey", "CET-L1"), ("Blue–red", "CET-D1"), ("Viridis", "viridis")]
NORM_TEXT = {"filter": "each filter stretched to its own range",
             "layer": "one scale for the whole layer",
             "signed": "middle colour = 0, blue/dark &lt; 0, red/light &gt; 0"}


def _combo(items) -> QComboBox:
    box = QComboBox()
    for text, data in items:
        box.addItem(text, data)
    return box


class FiltersPanel(InsightPanel):
    filterClicked = Signal(str, int)          # layer, filter index (→ activation maximisation)
    filterCut = Signal(str, int)              # the same with Ctrl held (→ switched off, Cut it)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.kernels: dict[str, np.ndarray] = {}
        self.layer_box = QComboBox()
        self.mode_box = _combo(MODE_ITEMS)
        self.channel_box = QSpinBox()
        self.channel_box.setPrefix("input ")
        self.norm_box = _combo(NORM_ITEMS)
        self.cmap_box = _combo(CMAP_ITEMS)
        bar = QHBoxLayout()
        for label, widget in (("Layer", self.layer_box), ("Show", self.mode_box),
                              (None, self.channel_box), ("Scale", self.norm_box),
                              ("Colours", self.cmap_box)):
            if label:
                bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addStretch(1)
        self.mosaic = MosaicView("Filters")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.mosaic, 1)
        layout.addWidget(self.status)
        for box in (self.layer_box, self.mode_box, self.norm_box, self.cmap_box):
            box.currentIndexChanged.connect(self.render)
        self.channel_box.valueChanged.connect(self.render)
        self.mosaic.tileClicked.connect(self._tile_clicked)
        self.view = None

    def model_changed(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Read the kernels where the model lives (cheap: weights only), then draw."""
        self.compute("kernels", conv_kernels, self.show_kernels)

    def show_kernels(self, kernels: dict[str, np.ndarray]) -> None:
        self.kernels = dict(kernels)
        names = list(self.kernels)
        refill_combo(self.layer_box, names)
        if not names:
            self.status.setText("This model has no convolution layers: nothing to show.")
        self.render()

    def render(self) -> None:
        layer = self.layer_box.currentText()
        if layer not in self.kernels:
            return
        kernel = self.kernels[layer]
        self.channel_box.setRange(0, kernel.shape[2] - 1)
        mode = self.mode_box.currentData()
        self.channel_box.setVisible(mode == "channel" or (mode == "auto" and kernel.shape[2] == 1))
        view = filter_view(kernel, layer, mode, self.channel_box.value(), self.norm_box.currentData())
        cmap = self.cmap_box.currentData()
        lo, hi = view.value_range
        caption = (f"weights {lo:+.3f} … {hi:+.3f} · {NORM_TEXT[view.norm]}"
                   + (" · colour = the RGB weights" if view.mode == "rgb" else ""))
        same_layout = self.view is not None and self.view.mosaic.image.shape == \
            view.mosaic.image.shape
        self.view = view
        self.mosaic.show_mosaic(view.mosaic, cmap, view.title, caption, view.labels,
                                keep_view=same_layout)
        self.status.setText("Click a filter to see what it looks for; Ctrl+click to switch it "
                            "off (Cut it).")
        self.updated.emit()

    def _tile_clicked(self, index: int) -> None:
        if self.view is None:
            return
        cin = self.view.kernel_shape[2]
        index = index // cin if self.view.mode == "all" else index
        cut = bool(QApplication.keyboardModifiers() & Qt.ControlModifier)
        (self.filterCut if cut else self.filterClicked).emit(self.view.layer, index)
