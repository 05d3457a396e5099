"""Epoch slider: scrub a run's stored probes epoch by epoch — filters, feature maps, predictions.

Works from the run directory alone (a finished run, or one reopened after a restart).

    panel = EpochSliderPanel(); panel.set_run(run_dir)
    panel.set_epoch(3)
    bridge ProbeReady / EpochEnd → panel.reload()     # live: follows the newest epoch
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.probes.feature_maps import channel_view
from cnnstudio.core.probes.filters import filter_view
from cnnstudio.core.probes.recorder import ProbeStore
from cnnstudio.gui.widgets.bars import epoch_bar
from cnnstudio.gui.widgets.mosaic import ImageGallery, MosaicView, refill_combo


class EpochSliderPanel(QWidget):
    updated = Signal()
    epochChanged = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.store: ProbeStore | None = None
        self.epochs: list[int] = []
        self.current = None          # EpochProbes shown
        self.probe = 0
        self.class_names: list[str] = []
        self.labels = np.zeros(0, np.int64)
        self.images = None
        self._cache: dict[int, object] = {}
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TicksBelow)
        self.epoch_label = QLabel("no probes recorded")
        self.epoch_label.setMinimumWidth(120)
        self.filter_box = QComboBox()
        self.map_box = QComboBox()
        bar = epoch_bar(self.slider, self.epoch_label, ("Filters of", self.filter_box),
                        ("Maps of", self.map_box))
        self.filters = MosaicView("Filters")
        self.maps = MosaicView("Feature maps")
        self.gallery = ImageGallery(side=56)
        self.gallery.imageClicked.connect(self.set_probe)
        views = QSplitter()
        views.addWidget(self.filters)
        views.addWidget(self.maps)
        split = QSplitter(Qt.Vertical)
        split.addWidget(views)
        split.addWidget(self.gallery)
        split.setSizes([380, 130])
        self.gallery.setMinimumHeight(120)
        self.status = QLabel("Open a run that recorded probes to scrub through its training.")
        self.status.setStyleSheet("color: #8a8a8a;")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self.slider.valueChanged.connect(self._slid)
        self.filter_box.currentIndexChanged.connect(self.render)
        self.map_box.currentIndexChanged.connect(self.render)

    def set_run(self, run_dir) -> None:
        self.store = ProbeStore(run_dir)
        self._cache.clear()
        self.images = None
        self.reload(follow=False)
        if self.epochs:
            self.set_epoch(self.epochs[-1])

    def reload(self, *_args, follow: bool = True) -> None:
        """Pick up newly written epochs (connect to ProbeReady/EpochEnd); follows the newest
        epoch when the slider was at the end."""
        if self.store is None:
            return
        at_end = not self.epochs or self.slider.value() == len(self.epochs) - 1
        self.epochs = self.store.epochs()
        if not self.epochs:
            self.status.setText("This run has no recorded probes (runs record them while "
                                "training).")
            return
        if self.images is None:
            meta = self.store.meta()
            self.class_names = [str(c) for c in meta.get("class_names") or []]
            self.images, self.labels = self.store.images()
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(self.epochs) - 1)
        self.slider.blockSignals(False)
        if follow and at_end:
            self.set_epoch(self.epochs[-1])
        else:
            self._update_label()

    def refresh(self) -> None:          # its tab came to the front with new epochs
        self.reload()

    def set_epoch(self, epoch: int) -> None:
        if epoch not in self.epochs:
            raise ValueError(f"no probes for epoch {epoch}; stored: {self.epochs}")
        self.slider.blockSignals(True)
        self.slider.setValue(self.epochs.index(epoch))
        self.slider.blockSignals(False)
        self._show(epoch)

    def set_probe(self, index: int) -> None:
        self.probe = int(index)
        self.render()

    def _slid(self, position: int) -> None:
        self._show(self.epochs[position])

    def _update_label(self) -> None:
        if self.current is not None:
            self.epoch_label.setText(f"{self.current.epoch}  (of {self.epochs[-1]})")

    def _show(self, epoch: int) -> None:
        if epoch not in self._cache:
            self._cache[epoch] = self.store.load(epoch)
        self.current = self._cache[epoch]
        self._update_label()
        refill_combo(self.filter_box, list(self.current.filters))
        refill_combo(self.map_box, list(self.current.maps))
        self._show_predictions()
        self.render()
        self.epochChanged.emit(epoch)

    def _name(self, i: int) -> str:
        return self.class_names[i] if 0 <= i < len(self.class_names) else str(i)

    def _show_predictions(self) -> None:
        probs = self.current.probs
        if probs is None or self.images is None:
            return
        pred = probs.argmax(axis=1)
        captions, colours = [], []
        for i, q in enumerate(pred):
            mark = ""
            if i < len(self.labels):
                mark = " ✓" if q == self.labels[i] else " ✗"
                colours.append("#188038" if q == self.labels[i] else "#d93025")
            captions.append(f"→ {self._name(int(q))} · {probs[i, q]:.0%}{mark}")
        right = int(np.sum(pred[:len(self.labels)] == self.labels))
        self.gallery.set_images(self.images, captions, None,
                                f"<b>Probe images at epoch {self.current.epoch}</b>: "
                                f"{right} of {len(self.labels)} right · click one for its maps",
                                colours or None)

    def render(self) -> None:
        if self.current is None:
            return
        epoch = self.current.epoch
        layer = self.filter_box.currentText()
        if layer in self.current.filters:
            view = filter_view(self.current.filters[layer], layer, "auto", 0, "layer")
            lo, hi = view.value_range
            # One scale per layer, so growth of the weights over the epochs stays visible.
            self.filters.show_mosaic(view.mosaic, "CET-L1", f"{view.title} · epoch {epoch}",
                                     f"weights {lo:+.3f} … {hi:+.3f}", view.labels,
                                     keep_view=True)
        layer = self.map_box.currentText()
        if layer in self.current.maps:
            maps = self.current.maps[layer]
            probe = min(self.probe, len(maps) - 1)
            view = channel_view(maps[probe], layer)
            label = f"probe {probe}" + (f" (true {self._name(int(self.labels[probe]))})"
                                        if probe < len(self.labels) else "")
            self.maps.show_mosaic(view.mosaic, "viridis", f"{view.title} · epoch {epoch}",
                                  f"{label} · first {view.shape[2]} channels stored",
                                  view.labels, keep_view=True)
        self.status.setText("Drag the slider to watch the filters and feature maps form.")
        self.updated.emit()
