"""The prediction dock for detection ("detect"): a dropped photo → its instances.

Two models to ask: the opened (or training) Mask R-CNN run — between batches while it
trains (``window.bridge.submit``), else an inference copy — or the pretrained COCO Mask
R-CNN for real photos (asks before its download). The answer is drawn with the same
view as the Detections tab: masks, boxes, labels, scores and the two sliders.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnstudio.core.families.detection.instances import Instances
from cnnstudio.gui.families.detection.coco_action import CocoFinder
from cnnstudio.gui.families.detection.detections_panel import detect_with
from cnnstudio.gui.families.detection.instances_view import InstancesView
from cnnstudio.gui.families.detection.model_access import WaitingAccess
from cnnstudio.gui.model_access import Answers

RUN, COCO = 0, 1


class DetectionPredictionView(QWidget):
    detected = Signal()

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.answers = Answers(self)
        self.models = WaitingAccess(window, self.answers)
        self.finder = CocoFinder(self)
        self.finder.progressed.connect(lambda text: self.result.setText(text))
        self.finder.found.connect(lambda photo, inst, name: self._show(
            photo, inst, f"{name} · COCO Mask R-CNN"))
        self.finder.failed.connect(self._failed)
        self.source = QComboBox()
        self.source.addItems(["This run's model", "COCO Mask R-CNN (pretrained, download)"])
        self.source.setToolTip("Which model finds the objects in a dropped image: the opened "
                               "run's, or the pretrained COCO model for real photos (80 "
                               "everyday classes)")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Model:"))
        bar.addWidget(self.source, 1)
        self.view = InstancesView(detail=False, min_side=160)
        self.result = QLabel("Drop a photo: the model draws what it finds.", wordWrap=True)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.result)

    # -- the registry's hooks ---------------------------------------------------------------
    def set_run_dir(self, path) -> None:
        self.run_dir = Path(path) if path else None
        self.models.set_run(path)
        # Without a run only the pretrained model can answer.
        self.source.setCurrentIndex(RUN if self.run_dir else COCO)

    def run_started(self, event) -> None:
        self.set_run_dir(event.run_dir)

    def predict_image(self, image, name: str = "") -> None:
        image, name = np.asarray(image), name or "the image"
        if self.source.currentIndex() == COCO:
            self.finder.find(image, name, self)
            return
        self.result.setText(f"Finding objects in {name}…")
        self.models.submit("detect", lambda model: detect_with(model, image),
                           lambda inst: self._show(image, inst, f"{name} · this run's model"),
                           self._failed)

    def close_panel(self) -> None:
        self.models.close()
        self.finder.close()

    # -- answers -----------------------------------------------------------------------------
    def _show(self, image, instances: Instances, title: str) -> None:
        self.view.set_instances(image, instances, title)
        ms = instances.extra.get("ms")
        self.result.setText(f"<b>{title}</b>: {len(instances)} instances"
                            + (f" · {ms:.0f} ms" if ms is not None else ""))
        self.detected.emit()

    def _failed(self, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.result.setText(f"⚠ {text}")
