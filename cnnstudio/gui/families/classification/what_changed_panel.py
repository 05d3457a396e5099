"""What changed between two epochs: the test images whose prediction flipped, right → wrong
and wrong → right, as two galleries with counts.

    panel.open_run(run_dir)               # the last two epochs compared
    panel.set_epochs(2, 5)                # as the two sliders do

The records are the per-epoch test predictions (``core/probes/what_changed.py``); a run
trained before they existed offers the epochs whose model is still on disk (its last two
checkpoints and the final model), predicted once when chosen. Reading, predicting and
loading the images run on the panel's own worker thread: never the training model.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSplitter, QVBoxLayout, QWidget

from cnnstudio.core.probes import what_changed as wc
from cnnstudio.gui.families.classification.receptive_field_panel import Requests, choose_image
from cnnstudio.gui.model_access import Answers
from cnnstudio.gui.widgets.mosaic import ImageGallery

LIMIT = 200             # thumbnails per gallery
BROKE, FIXED = "#d93025", "#188038"


def _compare(run_dir: Path, before: int, after: int, cache: dict) -> dict:
    """On the worker: the flips and (once per run) the recorded test images."""
    from cnnstudio.core.datasets import load_dataset
    from cnnstudio.core.training.rundir import RunDir

    for epoch in (before, after):
        wc.ensure_recorded(run_dir, epoch)
    found = wc.compare(run_dir, before, after)
    store = wc.PredictionStore(run_dir)
    meta = store.meta()
    if run_dir not in cache:
        config = RunDir.open(run_dir).config()
        dataset = load_dataset(config.dataset)
        x, _, kept = wc.test_images(dataset, meta["indices"])
        cache[run_dir] = (x, kept, list(dataset.class_names))
    images, kept, names = cache[run_dir]
    return {"flips": found, "images": images, "indices": np.asarray(meta["indices"]),
            "labels": np.asarray(meta["labels"]), "names": names, "run": run_dir,
            "before": store.load(before), "after": store.load(after)}


class WhatChangedPanel(QWidget):
    updated = Signal()                  # a comparison was drawn
    imageChosen = Signal(object, str)

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.epochs: list[int] = []
        self.result: dict | None = None
        self._cache: dict = {}
        self.requests = Requests()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="what-changed")
        self.answers = Answers(self)
        self.sliders, self.labels = [], []
        bar = QHBoxLayout()
        for text in ("From epoch", "to epoch"):
            slider = QSlider(Qt.Horizontal)
            slider.setPageStep(1)
            slider.setTickPosition(QSlider.TicksBelow)
            label = QLabel("–")
            label.setMinimumWidth(40)
            bar.addWidget(QLabel(text))
            bar.addWidget(slider, 1)
            bar.addWidget(label)
            slider.valueChanged.connect(lambda _v: self._slid())
            self.sliders.append(slider)
            self.labels.append(label)
        self.summary = QLabel("", wordWrap=True)
        self.broke = ImageGallery(side=56)
        self.fixed = ImageGallery(side=56)
        self.broke.imageClicked.connect(lambda i: self._chosen(i))
        self.fixed.imageClicked.connect(lambda i: self._chosen(i))
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.broke)
        split.addWidget(self.fixed)
        self.status = QLabel("Open a classification run trained for two epochs or more.",
                             wordWrap=True)
        self.status.setStyleSheet("color: #8a8a8a;")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

    # -- the registry's hooks -------------------------------------------------------------
    def run_started(self, event) -> None:
        self.set_run(event.run_dir)

    def open_run(self, path) -> None:
        self.set_run(path)

    def probe_ready(self, event) -> None:
        if event.name == "predictions" and self.run_dir is not None:
            self._reload(follow=self.at_end())

    def run_finished(self, event) -> None:
        if self.run_dir is not None:
            self._reload(follow=self.at_end())

    def busy(self) -> bool:
        return self.requests.busy()

    def close_panel(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- epochs -------------------------------------------------------------------------
    def set_run(self, run_dir) -> None:
        self.run_dir = Path(run_dir) if run_dir else None
        self.result, self.epochs = None, []
        self._reload(follow=True)

    def at_end(self) -> bool:
        return not self.epochs or self.sliders[1].value() == len(self.epochs) - 1

    def chosen(self) -> tuple[int, int] | None:
        if len(self.epochs) < 2:
            return None
        return tuple(self.epochs[s.value()] for s in self.sliders)

    def _reload(self, follow: bool) -> None:
        was = self.chosen()
        try:
            self.epochs = wc.available_epochs(self.run_dir) if self.run_dir else []
        except Exception:        # a run folder still being written: the next epoch retries
            self.epochs = []
        for slider in self.sliders:
            slider.blockSignals(True)
            slider.setRange(0, max(0, len(self.epochs) - 1))
            slider.blockSignals(False)
        if len(self.epochs) < 2:
            for label in self.labels:
                label.setText("–")
            self.summary.setText("")
            self.status.setText("Flips need two epochs: " + (
                f"only epoch {self.epochs[0]} is recorded so far." if self.epochs else
                "none recorded yet (each epoch of a classifier run records its test "
                "predictions)."))
            return
        if follow or was is None:
            self.set_epochs(self.epochs[-2], self.epochs[-1])
        else:
            self.set_epochs(*was)

    def set_epochs(self, before: int, after: int) -> None:
        for slider, epoch in zip(self.sliders, (before, after), strict=True):
            slider.blockSignals(True)
            slider.setValue(self.epochs.index(epoch))
            slider.blockSignals(False)
        self._slid()

    def _slid(self) -> None:
        chosen = self.chosen()
        if chosen is None:
            return
        for label, epoch in zip(self.labels, chosen, strict=True):
            label.setText(str(epoch))
        before, after = chosen
        if before == after:
            self.status.setText("Pick two different epochs.")
            return
        run_dir, cache = self.run_dir, self._cache
        self.status.setText(f"Comparing epoch {before} with epoch {after}…")
        future = self._pool.submit(_compare, run_dir, before, after, cache)
        self.answers.watch("compare", future,
                           *self.requests.track("compare", self._show, self._failed))

    # -- drawing --------------------------------------------------------------------------
    def _show(self, found: dict) -> None:
        if found["run"] != self.run_dir:
            return
        self.result = found
        flips = found["flips"]
        names, labels, images = found["names"], found["labels"], found["images"]

        def name(c):
            return names[int(c)] if 0 <= int(c) < len(names) else str(int(c))

        for gallery, picks, title, colour in (
                (self.broke, flips.right_to_wrong, "right → wrong", BROKE),
                (self.fixed, flips.wrong_to_right, "wrong → right", FIXED)):
            shown = picks[:LIMIT]
            a, b = found["before"].predicted, found["after"].predicted
            captions = [f"{name(labels[i])}: {name(a[i])} → {name(b[i])}" for i in shown]
            tips = [f"test image #{int(found['indices'][i])}, true {name(labels[i])}: epoch "
                    f"{flips.before} said {name(a[i])}, epoch {flips.after} says {name(b[i])} "
                    f"({float(found['after'].confidence[i]):.0%})" for i in shown]
            header = (f"<b style='color:{colour}'>{len(picks)} {title}</b>"
                      + (f" (first {LIMIT} shown)" if len(picks) > LIMIT else "")
                      + " · caption: true: before → after")
            gallery.set_images(images[shown] if len(shown) else images[:0], captions, shown,
                               header, [colour] * len(shown), tips)
        net = len(flips.wrong_to_right) - len(flips.right_to_wrong)
        self.summary.setText(f"<b>{flips.summary()}</b> — net {net:+d} "
                             f"({flips.accuracy_after - flips.accuracy_before:+.1%}).")
        self.status.setText("Click an image to see it in the other tabs and the prediction "
                            "dock.")
        self.updated.emit()

    def _chosen(self, i: int) -> None:
        found = self.result
        names = found["names"]
        label = int(found["labels"][i])
        caption = (f"test #{int(found['indices'][i])} (class "
                   f"{names[label] if label < len(names) else label})")
        self.imageChosen.emit(found["images"][i], caption)
        choose_image(self.window, found["images"][i], caption)

    def _failed(self, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"⚠ {text}")
