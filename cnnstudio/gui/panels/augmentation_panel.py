"""Augmentation panel (chapter 2): flips and strength sliders, and a live preview grid.

    panel = AugmentationPanel(background, sample_image)   # sample_image(i) → uint8 H×W×C | None
    panel.augmentation() → the dict for TrainConfig.augmentation ({} when all off)
    panel.preview_updated: the grid shows ``panel.images`` (first: the original)

The preview runs ``augment.preview`` (Keras's own Random* layers) on the Background
worker, a moment after the last slider move, and only while the panel is on screen.
``install(window)`` adds it to the studio as a dock tabbed with Training.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider

from cnnstudio.core import augment
from cnnstudio.gui.widgets.images import to_pixmap
from cnnstudio.gui.widgets.vscroll import scroller, vscroll

PREVIEW_N = 12
COLUMNS = 6
SIDE = 52
DEBOUNCE_MS = 150
FLIP_NAMES = {"none": "No flips", "horizontal": "Left ↔ right", "vertical": "Upside down",
              "horizontal_and_vertical": "Both"}
TITLES = {"rotation": "Rotation", "translation": "Shift", "zoom": "Zoom",
          "contrast": "Contrast", "brightness": "Brightness"}
TIPS = {
    "rotation": "Turn each image by a random angle up to this fraction of a full turn "
                "(0.05 ≈ ±18°).",
    "translation": "Shift each image by up to this fraction of its side, edges mirrored.",
    "zoom": "Zoom in or out by up to this fraction of the side.",
    "contrast": "Scale the contrast by a random factor within 1 ± this.",
    "brightness": "Add a random brightness shift of up to this fraction of the 0–255 range.",
}


def _amount(key: str, value: float) -> str:
    """The strength in words a student can picture, for the row's label."""
    if not value:
        return "off"
    return f"±{value * 360:.0f}°" if key == "rotation" else f"±{value * 100:.0f} %"


class AugmentationPanel(QWidget):
    changed = Signal()
    preview_updated = Signal()

    def __init__(self, background, sample_image=lambda index: None, parent=None):
        super().__init__(parent)
        self.background = background
        self.sample_image = sample_image
        self.images: np.ndarray | None = None     # the grid's images, original first
        self._sample_index = 0
        self._seed = 0
        self._stale = True
        intro = QLabel("Random changes to the training images, new every epoch; validation, "
                       "test and predictions see the originals.", wordWrap=True)
        intro.setObjectName("muted")
        self.flip = QComboBox()
        for key in augment.FLIPS:
            self.flip.addItem(FLIP_NAMES.get(key, key), key)
        self.flip.setToolTip("Mirror images at random: right for cats and dogs, wrong for "
                             "digits and traffic signs, whose meaning changes when mirrored.")
        self.flip.currentIndexChanged.connect(self._edited)
        form = QFormLayout()
        form.addRow("Flips:", self.flip)
        self.sliders: dict[str, QLabeledDoubleSlider] = {}
        self.labels: dict[str, QLabel] = {}
        for key, (top, _) in augment.STRENGTHS.items():
            slider = QLabeledDoubleSlider(Qt.Horizontal)
            slider.setRange(0.0, top)
            slider.setDecimals(2)
            slider.setSingleStep(0.01)
            slider.setValue(0.0)
            slider.setToolTip(TIPS[key])
            slider.setObjectName(f"augment_{key}")
            slider.valueChanged.connect(self._edited)
            label = QLabel()
            label.setToolTip(TIPS[key])
            label.setMinimumWidth(112)
            self.sliders[key], self.labels[key] = slider, label
            form.addRow(label, slider)
        self.reset = QPushButton("All off")
        self.reset.setToolTip("Switch every augmentation off.")
        self.reset.clicked.connect(lambda: self.set_augmentation({}, emit=True))
        self.another = QPushButton("Another image")
        self.another.setToolTip("Preview the augmentations on the next sample of the dataset.")
        self.another.clicked.connect(self._next_image)
        self.redraw = QPushButton("New draws")
        self.redraw.setToolTip("Draw a fresh set of random augmentations for the preview.")
        self.redraw.clicked.connect(self._new_draws)
        buttons = QHBoxLayout()
        for button in (self.reset, self.another, self.redraw):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.grid = QGridLayout()
        self.grid.setSpacing(3)
        self.grid.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.cells: list[QLabel] = []
        for i in range(PREVIEW_N):
            cell = QLabel()
            cell.setFixedSize(SIDE + 2, SIDE + 2)
            cell.setAlignment(Qt.AlignCenter)
            cell.setObjectName("imageWell")
            cell.setToolTip("The original sample" if i == 0 else "A random augmentation")
            if i == 0:
                cell.setStyleSheet("border: 2px solid #1a73e8;")
            self.grid.addWidget(cell, i // COLUMNS, i % COLUMNS)
            self.cells.append(cell)
        self.status = QLabel("Load a dataset to preview the augmentations.", wordWrap=True)
        self.status.setObjectName("muted")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("Preview (blue frame: the original):"))
        layout.addLayout(self.grid)
        layout.addWidget(self.status)
        layout.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(vscroll(body))      # a short dock scrolls, never overlaps
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._submit)
        self._update_labels()

    # -- the config ----------------------------------------------------------
    def augmentation(self) -> dict:
        """The TrainConfig.augmentation dict: only what is switched on."""
        found = {}
        if self.flip.currentData() != "none":
            found["flip"] = self.flip.currentData()
        for key, slider in self.sliders.items():
            value = round(float(slider.value()), 3)
            if value > 0:
                found[key] = value
        return found

    def set_augmentation(self, aug: dict | None, emit: bool = False) -> None:
        aug = aug if isinstance(aug, dict) else {}
        widgets = [self.flip, *self.sliders.values()]
        for widget in widgets:
            widget.blockSignals(True)
        self.flip.setCurrentIndex(max(self.flip.findData(aug.get("flip", "none")), 0))
        for key, slider in self.sliders.items():
            value = aug.get(key, 0.0)
            slider.setValue(float(value) if isinstance(value, int | float) else 0.0)
        for widget in widgets:
            widget.blockSignals(False)
        self._update_labels()
        self.refresh_soon()
        if emit:
            self.changed.emit()

    def _edited(self, *_) -> None:
        self._update_labels()
        self.changed.emit()
        self.refresh_soon()

    def _update_labels(self) -> None:
        for key, slider in self.sliders.items():
            self.labels[key].setText(f"{TITLES[key]} ({_amount(key, slider.value())}):")

    # -- the preview ---------------------------------------------------------
    def sample_changed(self) -> None:
        """The dataset changed: start again from its first sample."""
        self._sample_index = 0
        self.refresh_soon()

    def _next_image(self) -> None:
        self._sample_index += 1
        self.refresh_soon()

    def _new_draws(self) -> None:
        self._seed += 1
        self.refresh_soon()

    def refresh_soon(self) -> None:
        """Recompute the grid a moment after the last change (off screen: when shown)."""
        self._stale = True
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event):
        super().showEvent(event)
        if self._stale:
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _submit(self) -> None:
        image = self.sample_image(self._sample_index)
        if image is None:
            self._clear("Load a dataset to preview the augmentations.")
            return
        self._stale = False
        aug, seed = self.augmentation(), self._seed
        self.status.setText("drawing augmentations…")
        self.background.submit(lambda: augment.preview(image, aug, PREVIEW_N, seed),
                               self._show, self._failed, key="augment-preview")

    def _show(self, images: np.ndarray) -> None:
        self.images = images
        for cell, image in zip(self.cells, images, strict=False):
            cell.setPixmap(to_pixmap(image, SIDE))
        aug = self.augmentation()
        self.status.setText("No augmentation: every copy is the original." if not
                            augment.is_active(aug) else
                            f"{len(images) - 1} random versions of one training sample.")
        self.preview_updated.emit()

    def _failed(self, reason: str) -> None:
        self._clear("Preview failed: " + reason.splitlines()[0])

    def _clear(self, text: str) -> None:
        self.images = None
        for cell in self.cells:
            cell.clear()
        self.status.setText(text)


def install(window) -> AugmentationPanel:
    """Add the panel to the studio: a dock tabbed with Training, fed by the dataset panel."""
    panel = AugmentationPanel(window.background, window.dataset.sample_image)
    dock = QDockWidget("Augmentation", window)
    dock.setObjectName("dock_augmentation")
    dock.setWidget(scroller(panel, 230))      # like every dock: scrolls on a small screen
    window.addDockWidget(Qt.RightDockWidgetArea, dock)
    window.tabifyDockWidget(window.docks["training"], dock)
    window.docks["training"].raise_()
    window.docks["augmentation"] = dock
    window.dataset.changed.connect(panel.sample_changed)
    panel.changed.connect(window._config_changed)
    window.closed.connect(panel.stop)
    return panel
