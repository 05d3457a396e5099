"""The prediction dock for a Haar cascade (prediction kind "haar"): a dropped or clicked
image gets the cascade's boxes, with the Haar tab's cascade and sliders (the tab gets the
same image, through the window's ``set_image`` hook, to show the stages and pyramid)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.detection import haar_probes
from cnnstudio.core.families.detection.haar_detect import detect_haar
from cnnstudio.gui.widgets.images import to_pixmap

SIDE = 260


class HaarPredictionView(QWidget):
    detected = Signal()

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.picture = QLabel("Drop a photo: the Haar cascade draws what it finds.")
        self.picture.setAlignment(Qt.AlignCenter)
        self.picture.setMinimumSize(SIDE // 2, SIDE // 2)
        self.result = QLabel(wordWrap=True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.result)

    def set_run_dir(self, path) -> None:
        """A cascade has no run: nothing to load."""

    def _settings(self) -> tuple[str, float, int, int]:
        panel = getattr(getattr(self.window, "tabs", None), "built", {}).get("haar")
        if panel is not None:
            return (panel.cascade_name, *panel.options())
        return "frontalface", 1.1, 5, 30

    def predict_image(self, image, name: str = "") -> None:
        image, name = np.asarray(image), name or "the image"
        cascade, scale, neighbors, min_size = self._settings()
        try:
            found = detect_haar(image, cascade, scale, neighbors, min_size)
        except StudioError as exc:
            self.result.setText(f"⚠ {exc}")
            return
        self.picture.setPixmap(to_pixmap(haar_probes.draw_boxes(image, found.boxes), SIDE))
        what = f"{len(found.boxes)} × {found.label}" if len(found.boxes) else \
            f"no {found.label}"
        self.result.setText(f"<b>{name}</b> · Haar {cascade}: {what} in {found.ms:.1f} ms")
        self.detected.emit()
