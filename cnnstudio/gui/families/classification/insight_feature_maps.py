"""Feature maps panel: every channel of one layer for one image, and a strip of all layers.

    panel = FeatureMapsPanel(); panel.set_run(run_dir)
    panel.set_image(image_uint8, "test #12 · true 7")     # a sample, a dropped file, a gallery click
    panel.refresh()                                       # after each EpochEnd (live)
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from cnnstudio.core.probes.feature_maps import FeatureMaps, as_batch, channel_view, overview
from cnnstudio.gui.families.classification.insight_panel import InsightPanel
from cnnstudio.gui.widgets.mosaic import MosaicView, refill_combo

CMAPS = [("Viridis", "viridis"), ("Inferno", "inferno"), ("Grey", "CET-L1")]


def _gray_rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, np.uint8)
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[:, :, :3]


class FeatureMapsPanel(InsightPanel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.image: np.ndarray | None = None
        self.image_caption = ""
        self.maps: dict[str, np.ndarray] = {}
        self.layer_box = QComboBox()
        self.norm_box = QComboBox()
        self.norm_box.addItem("Each channel to its own range", "channel")
        self.norm_box.addItem("One range for the layer", "layer")
        self.cmap_box = QComboBox()
        for text, name in CMAPS:
            self.cmap_box.addItem(text, name)
        bar = QHBoxLayout()
        for label, widget in (("Layer", self.layer_box), ("Scale", self.norm_box),
                              ("Colours", self.cmap_box)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addStretch(1)
        self.input_view = MosaicView("Input", min_side=120)
        self.input_view.setMaximumWidth(240)
        self.grid = MosaicView("Feature maps")
        top = QWidget()
        row = QHBoxLayout(top)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.input_view)
        row.addWidget(self.grid, 1)
        self.strip = QWidget()
        self.strip_layout = QHBoxLayout(self.strip)
        self.strip_layout.setContentsMargins(0, 0, 0, 0)
        self.strip_views: list[MosaicView] = []
        split = QSplitter()
        split.setOrientation(Qt.Vertical)
        split.addWidget(top)
        split.addWidget(self.strip)
        split.setSizes([360, 200])
        self.strip.setMinimumHeight(150)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        for box in (self.layer_box, self.norm_box, self.cmap_box):
            box.currentIndexChanged.connect(self.render)
        self.status.setText("Pick an image (a sample, a dropped file or a gallery click).")

    # -- inputs --------------------------------------------------------------
    def set_image(self, image: np.ndarray, caption: str = "") -> None:
        self.image, self.image_caption = np.asarray(image), caption
        self.refresh()

    def model_changed(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        if self.image is None:
            return
        image = self.image
        self.status.setText("computing feature maps…")
        self.compute("maps", lambda m: (FeatureMaps.for_model(m)(image),
                                        FeatureMaps.for_model(m).input_shape),
                     lambda answer: self.show_maps(answer[0], image, answer[1]))

    # -- drawing -------------------------------------------------------------
    def show_maps(self, maps: dict[str, np.ndarray], image=None, shape=None) -> None:
        self.maps = dict(maps)
        if image is not None:
            seen = image if shape is None else as_batch(image, shape)[0]
            seen = np.clip(np.round(seen), 0, 255).astype(np.uint8)
            h, w = seen.shape[:2]
            self.input_view.show_image(_gray_rgb(seen), "Input",
                                       f"{h}×{w} · {self.image_caption}".strip(" ·"))
        names = list(self.maps)
        refill_combo(self.layer_box, names)
        if not names:
            self.status.setText("This model has no convolution or pooling layers.")
            return
        self._render_strip()
        self.render()

    def render(self) -> None:
        layer = self.layer_box.currentText()
        if layer not in self.maps:
            return
        view = channel_view(self.maps[layer], layer, norm=self.norm_box.currentData())
        lo, hi = view.value_range
        self.grid.show_mosaic(view.mosaic, self.cmap_box.currentData(), view.title,
                              f"activations {lo:.2f} … {hi:.2f} · bright = strong",
                              view.labels, keep_view=True)
        self.status.setText("Early layers respond to edges and strokes; deeper ones to parts "
                            "of shapes. Click a layer below to enlarge it.")
        self.updated.emit()

    def _render_strip(self) -> None:
        views = overview(self.maps, per_layer=8)
        while len(self.strip_views) < len(views):
            view = MosaicView(min_side=90)
            index = len(self.strip_views)
            view.tileClicked.connect(lambda _t, i=index: self.layer_box.setCurrentIndex(i))
            self.strip_layout.addWidget(view)
            self.strip_views.append(view)
        for i, view in enumerate(self.strip_views):
            view.setVisible(i < len(views))
            if i < len(views):
                v = views[i]
                h, w, c = v.shape
                shown = min(c, 8)
                view.show_mosaic(v.mosaic, self.cmap_box.currentData(), f"{v.layer}",
                                 f"{h}×{w}×{c}" + (f" (first {shown})" if shown < c else ""))

