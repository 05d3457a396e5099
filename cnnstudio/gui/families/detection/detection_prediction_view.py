"""The prediction dock for detection ("detect"): a dropped photo → its instances.

Two models to ask: the opened (or training) Mask R-CNN run — between batches while it
trains (``window.bridge.submit``), else an inference copy — or the pretrained COCO Mask
R-CNN for real photos (asks before its download). The picker follows the model the window
names (``model_access.answering_model``): the ``maskrcnn-coco`` preset always asks the
pretrained model, never a run trained before it; a ``maskrcnn`` run asks its own model. The
answer is drawn with the same view as the Detections tab: masks, boxes, labels, scores and
the two sliders; a failed download shows its message, word-wrapped, with Copy URL.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnstudio.core.families.detection.instances import Instances
from cnnstudio.gui.families.detection.coco_action import DOWNLOAD_FAILED, CocoFinder, DownloadNote
from cnnstudio.gui.families.detection.detections_panel import detect_with
from cnnstudio.gui.families.detection.instances_view import InstancesView
from cnnstudio.gui.families.detection.model_access import (
    COCO_TASK,
    WaitingAccess,
    current_task,
    run_serves,
)
from cnnstudio.gui.model_access import Answers

RUN, COCO = 0, 1
HINT = "Drop a photo: the model draws what it finds."
COCO_HINT = ("Drop a photo: the pretrained COCO Mask R-CNN draws the everyday things it "
             "finds (it asks before its first download).")


class DetectionPredictionView(QWidget):
    detected = Signal()

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.followed: tuple | None = None      # (task, run) the picker was last set for
        self.answers = Answers(self)
        self.models = WaitingAccess(window, self.answers)
        self.finder = CocoFinder(self)
        self.finder.progressed.connect(lambda text: self.result.setText(text))
        self.finder.found.connect(lambda photo, inst, name: self._show(
            photo, inst, f"{name} · COCO Mask R-CNN"))
        self.finder.failed.connect(self._failed)
        self.source = QComboBox()
        self.source.addItems(["This run's model", "COCO Mask R-CNN (pretrained)"])
        self.source.setToolTip("Which model finds the objects in a dropped image: the opened "
                               "run's, or the pretrained COCO model for real photos (80 "
                               "everyday classes; downloaded on first use)")
        # Narrow docks: the picker may be narrower than its longest item.
        self.source.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.source.setMinimumContentsLength(12)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Model:"))
        bar.addWidget(self.source, 1)
        self.view = InstancesView(detail=False, min_side=160)
        self.result = QLabel(HINT, wordWrap=True)
        self.note = DownloadNote()
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.result)
        layout.addWidget(self.note)
        # The preset or architecture picked next may name another model: follow it at once.
        # These are the signals on which the window shows a model's family (a preset sets
        # the picker with its signals blocked, then its layer table says valid or not); the
        # window connected to them before this view existed, so its tabs have the new task.
        for owner, name in (("architecture", "model_changed"),
                            ("architecture", "validity_changed"),
                            ("bridge", "running_changed")):
            signal = getattr(getattr(window, owner, None), name, None)
            if signal is not None:
                signal.connect(self._window_changed)

    # -- the registry's hooks ---------------------------------------------------------------
    def set_run_dir(self, path) -> None:
        self.run_dir = Path(path) if path else None
        self.models.set_run(path)
        self.follow()

    def run_started(self, event) -> None:
        self.set_run_dir(event.run_dir)

    def predict_image(self, image, name: str = "") -> None:
        self.follow()
        image, name = np.asarray(image), name or "the image"
        self.note.hide()
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

    # -- which model --------------------------------------------------------------------------
    def follow(self) -> None:
        """Point the picker at the model the window names now. "This run's model" is offered
        only for a run of the current architecture's task (never for the pretrained preset);
        an answer from another task or run is cleared."""
        task = current_task(self.window)
        has_run = run_serves(self.run_dir, task)
        self.source.model().item(RUN).setEnabled(has_run)
        key = (task, self.run_dir if has_run else None)
        if key != self.followed:
            if self.followed is not None:       # another model now: its answer is not ours
                self.view.clear()
                self.note.hide()
                self.result.setText(COCO_HINT if task == COCO_TASK else HINT)
            self.followed = key
            self.source.setCurrentIndex(RUN if has_run else COCO)
        elif not has_run:
            self.source.setCurrentIndex(COCO)

    def _window_changed(self, *_args) -> None:
        self.follow()

    def showEvent(self, event):                # noqa: N802 (Qt's name)
        self.follow()
        super().showEvent(event)

    # -- answers -----------------------------------------------------------------------------
    def _show(self, image, instances: Instances, title: str) -> None:
        self.note.hide()
        self.view.set_instances(image, instances, title)
        ms = instances.extra.get("ms")
        self.result.setText(f"<b>{title}</b>: {len(instances)} instances"
                            + (f" · {ms:.0f} ms" if ms is not None else ""))
        self.detected.emit()

    def _failed(self, error) -> None:
        text = str(error) or type(error).__name__
        if self.note.show_failure(text):
            self.result.setText(DOWNLOAD_FAILED)
        else:
            self.result.setText(f"⚠ {text.splitlines()[0]}")
