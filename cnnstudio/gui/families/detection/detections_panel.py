"""The Detections tab (task "detection"): the model's instances over an image.

- Per-epoch replay: the run's probe images with the instances recorded after each epoch
  (``probe_source``), an epoch slider and a probe picker; live during training.
- A clicked dataset sample or a dropped photo: the run's model finds its instances (between
  batches while it trains — ``window.bridge.submit`` —, else an inference copy); for the
  ``maskrcnn-coco`` preset (task "coco-pretrained"), or with no run, the pretrained COCO
  Mask R-CNN does. The tab serves both tasks, so when the window's task changes (``shown``,
  ``set_image``) what belonged to the other one is cleared: the pretrained preset never
  shows, or asks, a shapes run trained before it; back on ``maskrcnn`` that run returns.
- Masks in fixed per-class colours, boxes, labels and scores, opacity and score-threshold
  sliders, and a click on an instance shows its 28×28 mask (``InstancesView``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSlider, QSpinBox, QVBoxLayout, QWidget

from cnnstudio.core.families.detection.instances import Instances
from cnnstudio.gui.families.detection import probe_source
from cnnstudio.gui.families.detection.coco_action import DOWNLOAD_FAILED, CocoFinder, DownloadNote
from cnnstudio.gui.families.detection.instances_view import InstancesView
from cnnstudio.gui.families.detection.model_access import (
    COCO_MODEL,
    COCO_TASK,
    WaitingAccess,
    answering_model,
    current_task,
)
from cnnstudio.gui.model_access import Answers
from cnnstudio.gui.widgets.bars import epoch_bar

NO_EPOCHS = "no epochs yet"
HINT = ("Click a dataset sample or drop a photo to see what the model finds in it: the opened "
        "or training Mask R-CNN run's, else the pretrained COCO Mask R-CNN (asks before its "
        "download).")
COCO_HINT = ("The pretrained COCO Mask R-CNN: click a sample photo or drop one to see the "
             "everyday things it finds (it asks before its first download; nothing trains, so "
             "there are no epochs to replay).")


def detect_with(model, image: np.ndarray) -> Instances:
    """Runs where the model lives: the run's model on one image → its instances."""
    from cnnstudio.core.families.detection import maskrcnn_probes

    found = maskrcnn_probes.detect(model, image)
    return found if isinstance(found, Instances) else \
        Instances.from_dict(found, np.asarray(image).shape[:2])


class DetectionsPanel(QWidget):
    updated = Signal()          # a picture is on screen (tests, screenshots)

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.epochs: list[int] = []
        self.records: dict[int, list] = {}       # epoch → [(image, Instances)] per probe
        self.epoch: int | None = None
        self.answers = Answers(self)
        self.models = WaitingAccess(window, self.answers)
        self.finder = None          # the pretrained COCO model, for images without a run
        self.showing_probe = False  # a probe image's epoch is shown (not the user's photo)
        self.task: str | None = None        # the window's task that what is shown belongs to
        self.kept_run: Path | None = None   # the detection run set aside for the COCO preset

        self.slider = QSlider(Qt.Horizontal)
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(lambda pos: self.set_epoch(self.epochs[pos]))
        self.epoch_label = QLabel(NO_EPOCHS)
        self.epoch_label.setMinimumWidth(110)
        self.probe = QSpinBox()
        self.probe.setPrefix("probe image ")
        self.probe.setRange(1, 1)
        self.probe.valueChanged.connect(lambda _: self._show_probe())
        bar = epoch_bar(self.slider, self.epoch_label, self.probe)
        self.view = InstancesView()
        self.status = QLabel(HINT, wordWrap=True)
        self.status.setObjectName("muted")
        self.note = DownloadNote()
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.note)

    # -- the registry's hooks ---------------------------------------------------------------
    def open_run(self, path) -> None:
        self.task = current_task(self.window)
        self._reset(Path(path))
        self.epochs = probe_source.epochs(self.run_dir)
        if not self.epochs:
            self.status.setText("This run has recorded no detections on its probe images yet.")
            self.updated.emit()
            return
        self._refresh_slider(follow=True)
        self.status.setText("Drag the slider to replay training on the probe images · click "
                            "an instance for its mask · drop a photo to detect in it.")

    def run_started(self, event) -> None:
        self.task = current_task(self.window)
        if getattr(event, "resumed", False):
            self.open_run(event.run_dir)
        else:
            self._reset(Path(event.run_dir))
        self.status.setText("Training: the probe images' detections appear after each epoch.")

    def probe_ready(self, event) -> None:
        found = probe_source.from_event(event)
        if found is None:
            return
        epoch, record = found
        self.records[epoch] = record
        if epoch not in self.epochs:
            self.epochs = sorted([*self.epochs, epoch])
        # A new epoch replaces the probe shown, never a photo the user asked about.
        self._refresh_slider(follow=self.showing_probe or self.view.image is None)

    def run_finished(self, event) -> None:
        if event.run_dir:
            self.open_run(event.run_dir)

    def set_image(self, image, caption: str = "") -> None:
        self.follow_task()
        image, caption = np.asarray(image), caption or "the chosen image"
        self.note.hide()
        if answering_model(self.window, self.models.run_dir) == COCO_MODEL:
            self._coco().find(image, caption, self)
            return
        self.status.setText(f"Detecting in {caption}…")
        self.models.submit("detect", lambda model: detect_with(model, image),
                           lambda inst: self.show_instances(image, inst,
                                                            f"{caption} · this run's model"),
                           self._failed)

    def shown(self) -> None:
        self.follow_task()

    def follow_task(self) -> None:
        """The window's task changed since this tab last showed something: clear what
        belonged to the other task (the pretrained preset never shows a shapes run's
        detections); back on "detection", the run set aside for it returns."""
        task = current_task(self.window)
        if task is None or task == self.task:
            return
        before, self.task = self.task, task
        if task == COCO_TASK:
            if self.run_dir is not None:
                self.kept_run = self.run_dir
            self._clear(COCO_HINT)
        elif before == COCO_TASK and self.kept_run is not None and self.kept_run.exists():
            kept, self.kept_run = self.kept_run, None
            self.open_run(kept)
        elif before is not None:
            self._clear(HINT)

    def busy(self) -> bool:
        return self.models.busy() or (self.finder is not None and self.finder.busy())

    def close_panel(self) -> None:
        self.models.close()
        if self.finder is not None:
            self.finder.close()

    def _coco(self):
        if self.finder is None:
            self.finder = CocoFinder(self)
            self.finder.progressed.connect(self.status.setText)
            self.finder.failed.connect(lambda text: self._failed(text))
            self.finder.found.connect(lambda photo, inst, name: self.show_instances(
                photo, inst, f"{name} · COCO Mask R-CNN (pretrained)"))
        return self.finder

    # -- drawing -------------------------------------------------------------------------------
    def show_instances(self, image, instances: Instances, title: str,
                       probe: bool = False) -> None:
        self.showing_probe = probe
        self.note.hide()
        self.view.set_instances(image, instances, title)
        self.status.setText(f"{title}: {len(instances)} instances found.")
        self.updated.emit()

    def set_epoch(self, epoch: int) -> None:
        if epoch not in self.records:
            try:
                self.records[epoch] = probe_source.load(self.run_dir, epoch)
            except Exception as exc:     # a damaged or half-written probe file
                self._failed(exc)
                return
        self.epoch = epoch
        self.slider.blockSignals(True)
        self.slider.setValue(self.epochs.index(epoch))
        self.slider.blockSignals(False)
        self.epoch_label.setText(f"{epoch}  (of {self.epochs[-1]})")
        self.probe.setRange(1, max(1, len(self.records[epoch])))
        self._show_probe()

    def _show_probe(self) -> None:
        record = self.records.get(self.epoch) or []
        if not record:
            return
        index = min(self.probe.value(), len(record)) - 1
        image, instances = record[index]
        self.show_instances(image, instances, f"Epoch {self.epoch} · probe image {index + 1}",
                            probe=True)

    def _refresh_slider(self, follow: bool) -> None:
        at_end = self.epoch is None or self.slider.value() >= self.slider.maximum()
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.epochs) - 1))
        self.slider.blockSignals(False)
        if self.epochs and follow and (at_end or self.epoch is None):
            self.set_epoch(self.epochs[-1])
        elif self.epochs:
            shown = self.epoch if self.epoch is not None else "–"
            self.epoch_label.setText(f"{shown}  (of {self.epochs[-1]})")

    def _reset(self, path: Path | None) -> None:
        if path != self.run_dir:            # another run: nothing of the last one stays
            self.view.clear()
            self.showing_probe = False
        self.run_dir = path
        self.models.set_run(path)
        self.epochs, self.records, self.epoch = [], {}, None
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.epoch_label.setText(NO_EPOCHS)
        self.probe.setRange(1, 1)

    def _clear(self, status: str) -> None:
        """Nothing of any run: no epochs, no picture, no run model."""
        self._reset(None)
        self.showing_probe = False
        self.view.clear()
        self.note.hide()
        self.status.setText(status)
        self.updated.emit()

    def _failed(self, error) -> None:
        text = str(error) or type(error).__name__
        if self.note.show_failure(text):
            self.status.setText(DOWNLOAD_FAILED)
        else:
            self.status.setText(f"⚠ {text.splitlines()[0]}")
        self.updated.emit()
