"""Error gallery (chapter 3's ``plot_example_errors``): misclassified test images, worst first.

    panel = ErrorGalleryPanel(); panel.set_run(run_dir)     # or set_predictions(...)
    panel.imageActivated → (image, caption) for feature maps, Grad-CAM and prediction
"""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout

from cnnstudio.core.probes.confusion import error_order
from cnnstudio.gui.families.classification.insight_confusion import PredictionsPanel
from cnnstudio.gui.widgets.mosaic import ImageGallery

LIMIT = 200


class ErrorGalleryPanel(PredictionsPanel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.order = []
        self.gallery = ImageGallery(side=72)
        self.gallery.imageClicked.connect(self.activate)
        layout = QVBoxLayout(self)
        layout.addWidget(self.gallery, 1)
        layout.addWidget(self.status)

    def show_predictions(self) -> None:
        p = self.predictions
        self.order = order = error_order(p.y_true, p.probs)
        shown = order[:LIMIT]
        total = len(p.y_true)
        captions, tips = [], []
        for i in shown:
            t, q = int(p.y_true[i]), int(p.y_pred[i])
            captions.append(f"{self.class_name(t)} → {self.class_name(q)}\n{p.probs[i, q]:.0%}")
            tips.append(f"{self.caption(int(i))} ({p.probs[i, q]:.1%} sure; "
                        f"{p.probs[i, t]:.1%} for the true class)")
        header = (f"<b>{len(order)} of {total} test images misclassified</b> "
                  f"({len(order) / max(total, 1):.1%})<br>worst first (least probability left "
                  f"for the true class) · caption: true → predicted, confidence"
                  + (f" · first {LIMIT} shown" if len(order) > LIMIT else ""))
        self.gallery.set_images(p.images[shown], captions, shown, header,
                                ["#d93025"] * len(shown), tips)
        self.status.setText("Click an image to see its feature maps and Grad-CAM.")
        self.updated.emit()
