"""Grad-CAM panel: where the network looked, as a heat map over the image.

    panel = GradCamPanel(); panel.set_run(run_dir)
    panel.set_image(image_uint8, "test #3 · true 5")
    panel.class_box → "Predicted class" or any class; opacity slider blends without recomputing
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout

from cnnstudio.core.probes.gradcam import grad_cam, overlay, saliency
from cnnstudio.gui.families.classification.insight_panel import InsightPanel
from cnnstudio.gui.widgets.mosaic import MosaicView


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[:, :, :3]


class GradCamPanel(InsightPanel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.image: np.ndarray | None = None
        self.caption = ""
        self.result = None
        self.stale = False               # asked while hidden: computed when shown
        self.method_box = QComboBox()
        self.method_box.addItem("Grad-CAM (last conv layer)", "grad-cam")
        self.method_box.addItem("Saliency (pixel gradients)", "saliency")
        self.class_box = QComboBox()
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setFixedWidth(140)
        bar = QHBoxLayout()
        for label, widget in (("Method", self.method_box), ("Class", self.class_box),
                              ("Opacity", self.opacity)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addStretch(1)
        views = QHBoxLayout()
        self.original = MosaicView("Image")
        self.heat = MosaicView("Heat map")
        views.addWidget(self.original)
        views.addWidget(self.heat)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(views, 1)
        layout.addWidget(self.status)
        self.method_box.currentIndexChanged.connect(self.refresh)
        self.class_box.currentIndexChanged.connect(self.refresh)
        self.opacity.valueChanged.connect(self.blend)
        self._fill_classes()

    def _fill_classes(self) -> None:
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem("Predicted class", None)
        for i, name in enumerate(self.class_names):
            self.class_box.addItem(f"{name}", i)
        self.class_box.blockSignals(False)

    def model_changed(self) -> None:
        self._fill_classes()
        self.refresh()

    def set_image(self, image: np.ndarray, caption: str = "") -> None:
        self.image, self.caption = np.asarray(image), caption
        self.refresh()

    def set_class(self, index: int | None) -> None:
        self.class_box.setCurrentIndex(0 if index is None else index + 1)

    def refresh(self) -> None:
        if self.image is None:
            return
        if not self.isVisible():
            # A gradient is traced once per model, on the training thread while a run is
            # live (~0.5 s): a hidden tab waits until it is shown (the controller asks).
            self.stale = True
            return
        self.stale = False
        image, chosen = self.image, self.class_box.currentData()
        if chosen is None and self.class_box.currentIndex() > 0:
            chosen = self.class_box.currentIndex() - 1
        method = self.method_box.currentData()
        fn = grad_cam if method == "grad-cam" else saliency
        self.status.setText(f"computing {method}…")

        def work(model):
            from cnnstudio.core.probes.feature_maps import as_batch, input_shape

            seen = as_batch(image, input_shape(model))[0]
            return fn(model, seen, class_index=chosen), seen

        self.compute("heat", work, self._show)

    def _show(self, answer) -> None:
        self.result, seen = answer
        self.seen = np.clip(np.round(seen), 0, 255).astype(np.uint8)
        h, w = self.seen.shape[:2]
        self.original.show_image(_rgb(self.seen), "Image", f"{h}×{w} · {self.caption}".strip(" ·"))
        self.blend()

    def blend(self) -> None:
        r = self.result
        if r is None:
            return
        alpha = self.opacity.value() / 100
        # Upscale before blending so a 16×16 digit does not show the map as coarse blocks.
        scale = max(1, 192 // max(self.seen.shape[:2]))
        big = np.kron(_rgb(self.seen), np.ones((scale, scale, 1), np.uint8))
        shown = overlay(big, r.heatmap, alpha)
        top = int(np.argmax(r.probabilities))
        what = "Grad-CAM" if r.method == "grad-cam" else "Saliency"
        where = f" of layer {r.layer}" if r.layer else ""
        title = f"{what}{where} for class {self.class_name(r.class_index)}"
        caption = (f"predicted {self.class_name(top)} ({r.probabilities[top]:.0%}) · "
                   f"class {self.class_name(r.class_index)}: "
                   f"{r.probabilities[r.class_index]:.0%} · red = most important")
        self.heat.show_image(shown, title, caption, keep_view=True)
        self.status.setText("Move the opacity slider to compare; pick a class to ask "
                            "'what would make this a …?'")
        self.updated.emit()
