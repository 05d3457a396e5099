"""One image's instances drawn over it: masks in fixed per-class colours, boxes, labels and
scores, with an opacity and a score-threshold slider; click an instance → its box-relative
mask (28×28 for the studio's model, 33×33 for the zoo's) and its score.

Shared by the Detections tab, the prediction dock's detection view and the COCO dialog.
The masks are one RGBA image item (one composite, not an item per mask), so a hundred
instances redraw at once when a slider moves.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from cnnstudio.core.families.detection.instances import Instances, class_color
from cnnstudio.gui.widgets.mosaic import BACKGROUND, MosaicView, colourise


def _slider(value: int, tip: str) -> QSlider:
    slider = QSlider(Qt.Horizontal)
    slider.setRange(0, 100)
    slider.setValue(value)
    slider.setToolTip(tip)
    return slider


class InstancesView(QWidget):
    redrawn = Signal()              # the picture changed (tests, screenshots)
    instanceClicked = Signal(int)   # index into the instances shown

    def __init__(self, parent=None, detail: bool = True, min_side: int = 220):
        super().__init__(parent)
        self.instances: Instances | None = None
        self.image: np.ndarray | None = None
        self.chosen: int | None = None
        self.plot = pg.GraphicsLayoutWidget()
        self.plot.setBackground(BACKGROUND)
        self.plot.setMinimumSize(min_side, min_side)
        self.title = self.plot.addLabel("", row=0, col=0, size="10pt", color="#e8e8e8")
        self.box = self.plot.addViewBox(row=1, col=0, lockAspect=True, invertY=True,
                                        enableMenu=False)
        self.photo_item = pg.ImageItem(axisOrder="row-major")
        self.mask_item = pg.ImageItem(axisOrder="row-major")
        for item in (self.photo_item, self.mask_item):
            self.box.addItem(item)
        self.photo_item.mouseClickEvent = self._clicked
        self.mask_item.mouseClickEvent = self._clicked
        self.rects: list[QGraphicsRectItem] = []
        self.labels: list[pg.TextItem] = []
        self.mask_rgba: np.ndarray | None = None     # the composite shown (tests)

        self.threshold = _slider(50, "Hide instances scoring below this")
        self.opacity = _slider(50, "How strongly the masks cover the image")
        self.threshold_label = QLabel()
        self.opacity_label = QLabel()
        for label in (self.threshold_label, self.opacity_label):
            label.setMinimumWidth(92)
        self.threshold.valueChanged.connect(self.redraw)
        self.opacity.valueChanged.connect(self._opacity_changed)
        bar = QHBoxLayout()
        bar.addWidget(self.threshold_label)
        bar.addWidget(self.threshold, 1)
        bar.addWidget(self.opacity_label)
        bar.addWidget(self.opacity, 1)

        self.detail = MosaicView("Click an instance", min_side=120) if detail else None
        if self.detail is not None:
            self.detail.setMinimumWidth(220)      # room for "its 28×28 mask (…)"
        self.summary = QLabel(wordWrap=True)
        top = QHBoxLayout()
        top.addWidget(self.plot, 4)
        if self.detail is not None:
            side = QVBoxLayout()
            side.addWidget(self.detail, 1)
            top.addLayout(side, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top, 1)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        self._update_labels()

    # -- input -------------------------------------------------------------------------
    def set_instances(self, image: np.ndarray, instances: Instances, title: str = "") -> None:
        image = np.asarray(image)
        if image.ndim == 2 or image.shape[-1] == 1:
            image = np.repeat(image.reshape(image.shape[:2])[..., None], 3, axis=2)
        first = self.image is None or self.image.shape[:2] != image.shape[:2]
        self.image, self.instances, self.chosen = image[..., :3], instances, None
        self.photo_item.setImage(self.image, autoLevels=False, levels=(0, 255))
        self.title.setText(title)
        self._make_items(len(instances))
        if first:
            self.box.autoRange(padding=0.02)
        self._reset_detail()
        self.redraw()

    def clear(self, title: str = "") -> None:
        """Nothing drawn: what another run or model found is gone."""
        self.image = self.instances = self.chosen = self.mask_rgba = None
        self.photo_item.clear()
        self.mask_item.clear()
        for item in (*self.rects, *self.labels):
            item.setVisible(False)
        self.title.setText(title)
        self.summary.setText("")
        self._reset_detail()
        self._update_labels()
        self.redrawn.emit()

    def _reset_detail(self) -> None:
        if self.detail is not None:
            self.detail.image_item.clear()
            self.detail.image = None
            self.detail.title.setText("Click an instance")
            self.detail.caption.setText("its mask as the mask head drew it")

    def set_threshold(self, score: float) -> None:
        self.threshold.setValue(int(round(score * 100)))

    def min_score(self) -> float:
        return self.threshold.value() / 100

    def visible(self) -> np.ndarray:
        """Indices of the instances shown (score at or above the threshold)."""
        if self.instances is None:
            return np.zeros(0, np.int64)
        return np.flatnonzero(self.instances.scores >= self.min_score() - 1e-6)

    # -- drawing ---------------------------------------------------------------------
    def _make_items(self, n: int) -> None:
        font = QFont("Sans")
        font.setPixelSize(11)
        while len(self.rects) < n:
            rect = QGraphicsRectItem()
            self.box.addItem(rect)
            label = pg.TextItem(anchor=(0, 1), fill=pg.mkBrush(0, 0, 0, 150))
            label.setFont(font)
            self.box.addItem(label)
            self.rects.append(rect)
            self.labels.append(label)
        inst = self.instances
        for i, (rect, label) in enumerate(zip(self.rects, self.labels, strict=True)):
            if i >= n:
                rect.setVisible(False)
                label.setVisible(False)
                continue
            y1, x1, y2, x2 = (float(v) for v in inst.boxes[i])
            colour = QColor(*class_color(inst.class_ids[i]))
            pen = QPen(colour, 2)
            pen.setCosmetic(True)
            rect.setPen(pen)
            rect.setRect(QRectF(x1, y1, x2 - x1, y2 - y1))
            label.setText(f"{inst.labels[i]} {inst.scores[i]:.2f}", color=colour)
            label.setPos(x1, y1)

    def redraw(self, *_args) -> None:
        self._update_labels()
        if self.instances is None or self.image is None:
            return
        shown = set(self.visible().tolist())
        for i in range(len(self.instances)):
            self.rects[i].setVisible(i in shown)
            self.labels[i].setVisible(i in shown)
        h, w = self.image.shape[:2]
        rgba = np.zeros((h, w, 4), np.uint8)
        masks = self.instances.masks
        if masks is not None:
            alpha = int(round(self.opacity.value() / 100 * 255))
            for i in sorted(shown):         # later (usually lower-scoring) paint on top
                rgba[masks[i]] = (*class_color(self.instances.class_ids[i]), alpha)
        self.mask_rgba = rgba
        self.mask_item.setImage(rgba, autoLevels=False, levels=(0, 255))
        n, total = len(shown), len(self.instances)
        counts: dict[str, int] = {}
        for i in sorted(shown):
            name = self.instances.labels[i]
            counts[name] = counts.get(name, 0) + 1
        found = ", ".join(f"{c} {name}" for name, c in sorted(counts.items(),
                                                               key=lambda kv: -kv[1]))
        extra = self.instances.extra
        timing = f" · {extra['ms']:.0f} ms" if "ms" in extra else ""
        self.summary.setText(f"<b>{n} of {total}</b> instances at score ≥ "
                             f"{self.min_score():.2f}{': ' + found if found else ''}{timing}")
        self.redrawn.emit()

    def _opacity_changed(self, *_args) -> None:
        self.redraw()

    def _update_labels(self) -> None:
        self.threshold_label.setText(f"Score ≥ {self.threshold.value() / 100:.2f}")
        self.opacity_label.setText(f"Opacity {self.opacity.value()}%")

    # -- clicking an instance ------------------------------------------------------------
    def instance_at(self, x: float, y: float) -> int | None:
        """The shown instance under a pixel: inside its mask (or box), the smallest first."""
        if self.instances is None:
            return None
        hits = []
        for i in self.visible():
            y1, x1, y2, x2 = self.instances.boxes[i]
            if not (x1 <= x < x2 and y1 <= y < y2):
                continue
            masks = self.instances.masks
            if masks is not None:
                r, c = int(y), int(x)
                if not (0 <= r < masks.shape[1] and 0 <= c < masks.shape[2] and masks[i, r, c]):
                    continue
            hits.append(((y2 - y1) * (x2 - x1), int(i)))
        return min(hits)[1] if hits else None

    def _clicked(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        pos = event.pos()
        index = self.instance_at(pos.x(), pos.y())
        if index is not None:
            self.choose(index)
            event.accept()

    def choose(self, index: int) -> None:
        """Show one instance's box-relative mask (or its crop, for box-only detectors)."""
        self.chosen = index
        inst = self.instances
        name, score = inst.labels[index], float(inst.scores[index])
        text = f"{name} · score {score:.3f}"
        if self.detail is not None:
            if inst.box_masks is not None:
                mask = inst.box_masks[index]
                self.detail.show_image(colourise(mask, "viridis"), title=text,
                                       caption=f"its {mask.shape[0]}×{mask.shape[1]} mask "
                                               "(box-relative, 0 … 1)")
            else:
                y1, x1, y2, x2 = (int(round(v)) for v in inst.boxes[index])
                crop = self.image[max(y1, 0):max(y2, y1 + 1), max(x1, 0):max(x2, x1 + 1)]
                self.detail.show_image(np.ascontiguousarray(crop), title=text,
                                       caption="its box (this detector draws no mask)")
        self.summary.setText(f"Chosen: <b>{name}</b>, score {score:.3f}, box "
                             f"{', '.join(f'{v:.0f}' for v in inst.boxes[index])} "
                             "(y1, x1, y2, x2)")
        self.instanceClicked.emit(index)

    def composite(self) -> np.ndarray | None:
        """The image as shown: photo with the mask layer blended in (tests, exports)."""
        if self.image is None or self.mask_rgba is None:
            return None
        a = self.mask_rgba[..., 3:4].astype(np.float32) / 255
        out = self.image.astype(np.float32) * (1 - a) + self.mask_rgba[..., :3] * a
        return np.clip(out, 0, 255).astype(np.uint8)
