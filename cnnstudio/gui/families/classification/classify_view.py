"""The classifier's prediction view (chapters 1–5): a dropped image as the model sees it and
its top 5, and for a transfer run over ImageNet weights, what the pretrained base with its
own 1,000-class head sees too.

Where the answer comes from:
- a run is training → the request is queued to the run's thread and served
  between batches (``RunBridge.submit``), never touching the model from here;
- otherwise → a Predictor loaded from the selected run directory, on the
  background worker (the same code path as ``cnnstudio predict``).

Below the top 5, a warning line when the image looks nothing like the training images
(``core/familiarity.py``: statistics a finished run fits on its final model). A run still
training has none yet, so its answers carry no warning either way.

A run whose calibration.json says ``"use": true`` (the Calibration tab, or ``cnnstudio
calibrate``) shows calibrated probabilities: softmax(log p / T), its fitted temperature.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout

from cnnstudio.core.errors import StudioError
from cnnstudio.core.familiarity import PERCENTILE
from cnnstudio.core.families.classification.calibration_run import active_temperature
from cnnstudio.core.probes.calibration import apply_temperature
from cnnstudio.gui.widgets.images import to_pixmap
from cnnstudio.gui.widgets.prediction_view import PredictionView
from cnnstudio.gui.widgets.top_bars import TopBars

VIEW = 150


def _live_top5(model, image: np.ndarray, dataset_info: dict, adapt_photos: bool):
    """Runs on the training thread, between batches."""
    from cnnstudio.core.predict import Predictor

    predictor = Predictor.for_model(model, dataset_info)   # no statistics: no warning
    predictor.adapt_photos = adapt_photos
    return _answer(predictor, image)


def _answer(predictor, image: np.ndarray, temperature: float | None = None):
    """(as the model sees it, top 5, preparation steps, familiarity or None); with a
    temperature, calibrated probabilities (they need every class's, so all are ranked)."""
    k = 5 if temperature is None else len(predictor.class_names)
    prepared, steps, rows, familiar = predictor.answer(image, k)
    if temperature is not None:
        rows = calibrated_rows(rows, temperature)[:5]
    if familiar is not None:
        digits = list(predictor.class_names) == [str(i) for i in range(10)]
        familiar = {**familiar, "noun": "digits" if digits else "images"}
    return prepared, rows, steps, familiar


def calibrated_rows(rows, temperature: float) -> list[tuple[str, float]]:
    """Every class's (name, p) → (name, softmax(log p / T)): the order stays, the
    confidences move (T > 1 softens them)."""
    names = [name for name, _ in rows]
    probs = apply_temperature(np.array([[p for _, p in rows]]), temperature)[0]
    return [(name, float(p)) for name, p in zip(names, probs, strict=True)]


def unfamiliar_text(familiar: dict | None) -> str | None:
    """The dock's warning for an unfamiliar image, or None."""
    if not familiar or not familiar.get("unfamiliar"):
        return None
    return (f"⚠ This does not look like the {familiar.get('noun', 'images')} it was trained "
            f"on (unfamiliarity {familiar['score']:.1f}, usual up to "
            f"{familiar['threshold']:.1f}): the answer is a guess.")


class ClassifyView(PredictionView):
    HINT = "Drop an image file here, paste one (Ctrl+V), or click a sample."
    shown = Signal()                     # a top-5 reached the screen (tests, benchmarks)

    def __init__(self, window=None, parent=None):
        super().__init__(window, parent)
        self.background = window.background
        self.bridge = window.bridge
        self.imagenet_base: str | None = None
        self._predictors: dict[tuple, object] = {}
        self._asked_at = 0.0
        self.last_latency_ms = 0.0
        self.hint.hide()          # the dock's own hint says what to do
        self.adapt_box = QCheckBox("Adapt photos")
        self.adapt_box.setChecked(True)
        self.adapt_box.setToolTip(
            "Bring a photo to the training images' form first: even out the lighting, invert "
            "dark ink on light paper for a model trained on light-on-dark digits, stretch the "
            "contrast, and crop and centre the content as MNIST does. Decided from the "
            "training set's own statistics (the run's dataset.json); natural-image datasets "
            "are only resized.")
        self.imagenet_box = QCheckBox("ImageNet top-5 too")
        self.imagenet_box.setToolTip(
            "A transfer run over ImageNet weights: also show what its pretrained base, with its "
            "original 1,000-class head, sees in the image (chapter 4's VGG16 demo). The full "
            "classifier's weights download once and stay loaded.")
        self.imagenet_box.hide()
        self.imagenet_title = QLabel(wordWrap=True)
        self.imagenet_title.setObjectName("muted")
        self.imagenet_bars = TopBars()
        for widget in (self.imagenet_title, self.imagenet_bars):
            widget.hide()
        self.view = QLabel()
        self.view.setFixedSize(VIEW, VIEW)
        self.view.setAlignment(Qt.AlignCenter)
        self.view.setObjectName("imageWell")
        self.view.setToolTip("The image after preprocessing: resized and converted to the "
                             "model's input size and channels.")
        self.view_caption = QLabel("As the model sees it", wordWrap=True)
        self.view_caption.setAlignment(Qt.AlignCenter)
        self.view_caption.setFixedWidth(VIEW)
        left = QVBoxLayout()
        left.setSpacing(2)
        left.addWidget(self.view)
        left.addWidget(self.view_caption)
        left.addStretch(1)
        self.toolbar = (self.adapt_box,)      # shown in the dock's button row
        self.bars = TopBars()
        self.unfamiliar = QLabel(wordWrap=True)
        self.unfamiliar.setObjectName("error")
        self.unfamiliar.setToolTip(
            "How unlike the training images this input is, from the features the last layer "
            "reads: the network's energy (no class's evidence is strong) or the distance to "
            "the nearest class's mean features, whichever says more. The usual range ends "
            f"where {PERCENTILE:g} % of the run's held-out images stay, measured when "
            "training finished.")
        self.unfamiliar.hide()
        self.calibrated = QLabel(wordWrap=True)
        self.calibrated.setObjectName("muted")
        self.calibrated.hide()
        if window is not None:
            self.apply_accent(window.palette().highlight().color())
        row = QHBoxLayout()
        row.addLayout(left)
        row.addWidget(self.bars, 1)
        self.body.addLayout(row)
        self.body.addWidget(self.calibrated)
        self.body.addWidget(self.unfamiliar)
        self.body.addWidget(self.imagenet_box)
        self.body.addWidget(self.imagenet_title)
        self.body.addWidget(self.imagenet_bars)

    def apply_accent(self, colour) -> None:
        self.bars.accent = colour

    def set_run_dir(self, path) -> None:
        super().set_run_dir(path)
        self.imagenet_base = _imagenet_base(self.run_dir)
        self.imagenet_box.setVisible(self.imagenet_base is not None)
        self.imagenet_title.hide()
        self.imagenet_bars.hide()
        self.unfamiliar.hide()

    def run_started(self, event) -> None:
        """The dock follows the run itself (``set_run_dir`` at its end)."""

    def predict_image(self, image: np.ndarray, name: str) -> None:
        dock = getattr(self.window, "prediction", None)      # it timed the user's request
        self._asked_at = getattr(dock, "asked_at", None) or time.perf_counter()
        image = self.checked(image, name)
        if image is None:
            return
        self._say(f"Classifying {name}…")
        adapt = self.adapt_box.isChecked()
        if self.bridge.running and self.bridge.run_dir is not None:
            self.show_temperature(None)         # a model still training: no fitted T
            info = _dataset_info(self.bridge.run_dir)
            if self.bridge.submit(lambda model: _live_top5(model, image, info, adapt),
                                  lambda future: self._live_answer(future, name)):
                self.source.setText(f"Model: the run training now ({self.bridge.run_dir.name}),"
                                    " answered between batches")
                return
        if self.run_dir is None:
            self.show_error("No model yet: train one, or open a run in the Runs panel.")
            return
        run_dir = self.run_dir
        imagenet = self.imagenet_box.isVisible() and self.imagenet_box.isChecked()
        temperature = self.show_temperature(active_temperature(run_dir))
        self.background.submit(lambda: self._predict_from_run(run_dir, image, adapt, imagenet,
                                                              temperature),
                               lambda result: self._show(*result[:4], name, *result[4:]),
                               self.show_error,
                               key="predict")

    def show_temperature(self, temperature: float | None) -> float | None:
        """Say whether the answers are calibrated (and with which T)."""
        self.calibrated.setText(f"Calibrated: probabilities softmax(log p / T) with T = "
                                f"{temperature:.2f}, fitted on held-out images (the "
                                "Calibration tab switches it off)." if temperature else "")
        self.calibrated.setVisible(temperature is not None)
        return temperature

    def _predict_from_run(self, run_dir: Path, image, adapt: bool,
                          imagenet: bool = False,
                          temperature: float | None = None):     # background thread
        from cnnstudio.core.predict import Predictor
        from cnnstudio.core.training.rundir import RunDir

        model_path = RunDir.open(run_dir).model_path()
        if model_path is None:
            raise StudioError(f"run {run_dir.name} has no trained model yet")
        key = (str(model_path), model_path.stat().st_mtime_ns)
        predictor = self._predictors.get(key)
        if predictor is None:
            predictor = Predictor.from_run(run_dir)
            self._predictors = {key: predictor}      # keep one: models can be large
        predictor.adapt_photos = adapt
        answer = _answer(predictor, image, temperature)
        if not imagenet or predictor.imagenet_base is None:
            return answer
        from cnnstudio.core.families.classification import transfer

        try:       # the Predictor keeps the ImageNet classifier: built once, not per image
            return (*answer, transfer.predictor_top5(predictor, image), predictor.imagenet_base)
        except StudioError as exc:           # offline: the message names the file and URL
            return (*answer, None, str(exc))

    def _live_answer(self, future, name: str) -> None:
        try:
            prepared, rows, steps, familiar = future.result()
        except Exception as exc:       # the run ended first, or the image did not fit
            if self.run_dir is not None and not self.bridge.running:
                self.source.setText(f"Model: run {self.run_dir.name}")
            self.show_error(f"Prediction failed: {exc}")
            return
        self._show(prepared, rows, steps, familiar, name)

    def _show(self, prepared: np.ndarray, rows, steps, familiar, name: str, imagenet=None,
              note: str | None = None) -> None:
        self.imagenet_title.setVisible(note is not None)
        self.imagenet_bars.setVisible(imagenet is not None)
        if imagenet is not None:
            self.imagenet_bars.set_rows(imagenet)
            self.imagenet_title.setText(f"ImageNet top-5: the {note.upper()} base with its own "
                                        "1,000-class head")
        elif note is not None:
            self.imagenet_title.setText(note)
        h, w, c = prepared.shape
        self.view.setPixmap(to_pixmap(prepared, VIEW - 4))
        self.view_caption.setText(f"As the model sees it: {w}×{h}×{c}")
        self.view_caption.setToolTip("Done to the image: " + "; ".join(steps) if steps
                                     else "Only resized to the model's input.")
        if steps:
            self.view_caption.setText(f"As the model sees it: {w}×{h}×{c}, "
                                      + ", ".join(s.split(":")[0] for s in steps))
        self.bars.set_rows(rows)
        warning = unfamiliar_text(familiar)
        self.unfamiliar.setText(warning or "")
        self.unfamiliar.setVisible(warning is not None)
        self._say(f"{name}: most likely “{rows[0][0]}” ({rows[0][1]:.1%})"
                  + (", but it looks unlike the training images." if warning else "."))
        self.last_latency_ms = (time.perf_counter() - self._asked_at) * 1000
        self.shown.emit()

    def show_error(self, error) -> None:
        super().show_error(error)
        self.unfamiliar.hide()
        self._say(self.HINT)

    def _say(self, text: str) -> None:
        dock = getattr(self.window, "prediction", None)
        if dock is not None:
            dock.hint.setText(text)


def _imagenet_base(run_dir: Path | None) -> str | None:
    from cnnstudio.core.predict import imagenet_base_of
    from cnnstudio.core.training.rundir import RunDir

    try:
        return imagenet_base_of(RunDir.open(run_dir)) if run_dir else None
    except StudioError:
        return None


def _dataset_info(run_dir: Path) -> dict:
    from cnnstudio.core.training.rundir import RunDir

    return RunDir(run_dir).read_json("dataset.json", {})
