"""The Mask R-CNN pipeline, one step at a time on the chosen image (book chapter 7):

    1 anchors (at a chosen pyramid level) → 2 RPN proposals coloured by objectness (top N)
    → 3 after non-maximum suppression → 4 refined boxes with classes → 5 masks

The steps come from ``maskrcnn_probes.pipeline(model, image, top_n)`` (numpy in, numpy
out), run where the model lives (between batches while it trains, else an inference copy
of the run's model). The chosen image is a probe image of the run, a dataset sample
clicked, or a dropped photo.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.families.detection.instances import Instances, class_color
from cnnstudio.gui.families.detection import probe_source
from cnnstudio.gui.families.detection.box_layer import BoxLayer
from cnnstudio.gui.families.detection.model_access import WaitingAccess
from cnnstudio.gui.families.detection.step_controls import StepControls
from cnnstudio.gui.model_access import Answers
from cnnstudio.gui.widgets.mosaic import BACKGROUND

STEPS = ("Anchors", "RPN proposals", "After NMS", "Refined boxes + classes", "Masks")
NOUNS = ("anchors", "proposals", "after NMS", "detections", "masks")
EXPLAIN = (
    "Every anchor of one pyramid level: boxes of a few scales and aspect ratios centred on "
    "each cell of that level's feature map. The RPN scores each one.",
    "The region proposal network's top {n} proposals (anchors moved by its box deltas), "
    "coloured by objectness: yellow = surely an object, dark purple = background.",
    "Non-maximum suppression keeps the best proposal of each overlapping group; these go "
    "through RoIAlign to the heads.",
    "The heads classify each region and refine its box; low-scoring and background regions "
    "are dropped, then NMS per class.",
    "The mask head's 28×28 mask for each detection's class, pasted into its box.",
)
class PipelineStepper(QWidget):
    stepped = Signal(int)           # a step is on screen (tests, screenshots)

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.image: np.ndarray | None = None
        self.caption = ""
        self.pipeline: dict | None = None
        self.step = 0
        self.counts: dict[int, int] = {}     # step → items drawn (tests, captions)
        self.answers = Answers(self)
        self.models = WaitingAccess(window, self.answers)

        self.plot = pg.GraphicsLayoutWidget()
        self.plot.setBackground(BACKGROUND)
        self.plot.setMinimumSize(260, 260)
        self.title = self.plot.addLabel("", row=0, col=0, size="10pt", color="#e8e8e8")
        self.box = self.plot.addViewBox(row=1, col=0, lockAspect=True, invertY=True,
                                        enableMenu=False)
        self.photo_item = pg.ImageItem(axisOrder="row-major")
        self.mask_item = pg.ImageItem(axisOrder="row-major")
        self.centre_item = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(255, 255, 255))
        for item in (self.photo_item, self.mask_item, self.centre_item):
            self.box.addItem(item)
        self.layer = BoxLayer(self.box, 2)
        self.cmap = pg.colormap.get("viridis")

        self.controls = StepControls(self, STEPS, self.show_step)
        self.back_button, self.step_box, self.next_button = self.controls.widgets()
        self.level = QComboBox()
        self.level.setToolTip("Which pyramid level's anchors to show")
        self.level.currentIndexChanged.connect(lambda _: self.step == 0 and self.show_step(0))
        self.top_n = QSpinBox()
        self.top_n.setRange(1, 1000)
        self.top_n.setValue(50)
        self.top_n.setPrefix("top ")
        self.top_n.setToolTip("How many proposals to show (by objectness); changing it asks "
                              "the model again")
        self.top_n.editingFinished.connect(self.recompute)
        bar = QHBoxLayout()
        for widget in (*self.controls.widgets(), QLabel("Level"), self.level, self.top_n):
            bar.addWidget(widget)
        bar.addStretch(1)
        self.explain = QLabel(wordWrap=True)
        self.status = QLabel("Open a Mask R-CNN run, or start training one: the pipeline "
                             "runs on its first probe image, or on any image you click or "
                             "drop.", wordWrap=True)
        self.status.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.explain)
        layout.addWidget(self.status)

    # -- the registry's hooks -------------------------------------------------------------
    def open_run(self, path) -> None:
        self.models.set_run(path)
        self._first_probe(Path(path))

    def run_started(self, event) -> None:
        self.models.set_run(event.run_dir)

    def probe_ready(self, event) -> None:
        if self.image is None and self.models.run_dir is not None:
            self._first_probe(self.models.run_dir)

    def set_image(self, image, caption: str = "") -> None:
        self.image, self.caption = np.asarray(image), caption or "chosen image"
        self.recompute()

    def busy(self) -> bool:
        return self.models.busy()

    def close_panel(self) -> None:
        self.models.close()

    # -- asking the model -----------------------------------------------------------------
    def _first_probe(self, run_dir: Path) -> None:
        if self.image is not None:
            self.recompute()
            return
        found = probe_source.first_probe_image(run_dir)
        if found is not None:
            self.set_image(*found)

    def recompute(self) -> None:
        if self.image is None or self.models.run_dir is None:
            return
        image, top_n = self.image, self.top_n.value()
        self.status.setText(f"Running the pipeline on {self.caption}…")

        def work(model):
            from cnnstudio.core.families.detection import maskrcnn_probes

            return maskrcnn_probes.pipeline(model, image, top_n=top_n)

        self.models.submit("pipeline", work, lambda p: self.show_pipeline(image, p, self.caption),
                           self._failed)

    def _failed(self, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"⚠ {text}")

    # -- drawing -----------------------------------------------------------------------------
    def show_pipeline(self, image: np.ndarray, pipeline: dict, caption: str = "") -> None:
        image = np.asarray(image)
        if image.ndim == 2 or image.shape[-1] == 1:
            image = np.repeat(image.reshape(image.shape[:2])[..., None], 3, axis=2)
        first = self.pipeline is None or self.image is None or \
            self.image.shape[:2] != image.shape[:2]
        self.image, self.pipeline, self.caption = image, pipeline, caption or self.caption
        self.photo_item.setImage(image[..., :3], autoLevels=False, levels=(0, 255))
        self.detections = Instances.from_dict(pipeline["detections"], image.shape[:2]) \
            if not isinstance(pipeline["detections"], Instances) else pipeline["detections"]
        levels = sorted(pipeline.get("anchors", {}), key=str)
        self.level.blockSignals(True)
        self.level.clear()
        self.level.addItems([str(level) for level in levels])
        self.level.blockSignals(False)
        self.counts = {0: self._anchors().shape[0], 1: len(pipeline["proposals"]),
                       2: len(pipeline["after_nms"]), 3: len(self.detections),
                       4: 0 if self.detections.masks is None else len(self.detections)}
        if first:
            self.box.autoRange(padding=0.02)
        self.status.setText(f"Pipeline on {self.caption}: "
                            + " → ".join(f"{self.counts[i]} {NOUNS[i]}"
                                         for i in range(len(STEPS))))
        self.show_step(self.step)

    def _anchors(self) -> np.ndarray:
        anchors = self.pipeline.get("anchors", {}) if self.pipeline else {}
        if not anchors:
            return np.zeros((0, 4), np.float32)
        keys = sorted(anchors, key=str)
        index = min(max(self.level.currentIndex(), 0), len(keys) - 1)
        return np.asarray(anchors[keys[index]], np.float32).reshape(-1, 4)

    def show_step(self, step: int) -> None:
        step = self.step = self.controls.show(step)
        self.level.setEnabled(step == 0)
        self.explain.setText(f"<b>{step + 1}. {STEPS[step]}</b> — "
                             + EXPLAIN[step].format(n=self.top_n.value()))
        if self.pipeline is None:
            return
        self.centre_item.setData([], [])
        self.mask_item.clear()
        boxes, colours, texts = np.zeros((0, 4)), [], []
        if step == 0:
            anchors = self._anchors()
            cx, cy = (anchors[:, 1] + anchors[:, 3]) / 2, (anchors[:, 0] + anchors[:, 2]) / 2
            centres = np.unique(np.round(np.stack([cx, cy], 1) * 2) / 2, axis=0)
            self.centre_item.setData(centres[:, 0], centres[:, 1])
            # Every anchor drawn would paint the image solid: the shapes of the position
            # nearest the image's centre stand for all (each position gets the same set).
            h, w = self.image.shape[:2]
            if len(anchors):
                near = np.argmin((cx - w / 2) ** 2 + (cy - h / 2) ** 2)
                at = (np.abs(cx - cx[near]) < 0.5) & (np.abs(cy - cy[near]) < 0.5)
                boxes = anchors[at]
                colours = [QColor(120, 200, 255)] * len(boxes)
            summary = (f"{len(anchors)} anchors at level {self.level.currentText()}: "
                       f"{len(centres)} position{'' if len(centres) == 1 else 's'} (dots) × "
                       f"{len(boxes)} shapes, drawn at the "
                       "position nearest the centre")
        elif step == 1:
            boxes = np.asarray(self.pipeline["proposals"], np.float32).reshape(-1, 4)
            score = np.asarray(self.pipeline["objectness"], np.float32).reshape(-1)
            order = np.argsort(score)                  # best drawn last, on top
            boxes, score = boxes[order], score[order]
            colours = [self.cmap.map(float(s), mode="qcolor") for s in score]
            summary = f"{len(boxes)} proposals, objectness {score.min():.2f} … " \
                      f"{score.max():.2f}" if len(boxes) else "no proposals"
        elif step == 2:
            boxes = np.asarray(self.pipeline["after_nms"], np.float32).reshape(-1, 4)
            colours = [QColor(255, 200, 60)] * len(boxes)
            summary = f"{len(boxes)} regions left after NMS " \
                      f"(of {self.counts[1]} proposals shown)"
        else:
            det = self.detections
            boxes = det.boxes
            colours = [QColor(*class_color(c)) for c in det.class_ids]
            texts = [f"{n} {s:.2f}" for n, s in zip(det.labels, det.scores, strict=True)]
            summary = f"{len(det)} detections: " + ", ".join(texts) if len(det) else \
                "no detections"
            if step == 4 and det.masks is not None:
                rgba = np.zeros((*det.image_size, 4), np.uint8)
                for m, c in zip(det.masks, det.class_ids, strict=True):
                    rgba[m] = (*class_color(c), 150)
                self.mask_item.setImage(rgba, autoLevels=False, levels=(0, 255))
                summary = f"{len(det)} masks (28×28 each, pasted into their boxes)"
        self.layer.draw(boxes, colours, texts)
        self.title.setText(f"{step + 1}/{len(STEPS)} {STEPS[step]} · {self.caption}")
        self.explain.setText(self.explain.text() + f"<br>{summary}")
        self.stepped.emit(step)

    def drawn_boxes(self) -> int:
        """Box items on screen now (tests)."""
        return self.layer.drawn()
