"""The classifier's calibration, recorded every epoch so the epoch slider can replay its
reliability diagram and the ECE curve (``core/probes/calibration.py`` holds the maths).

    hook = make_calibration_hook(run_dir, dataset, cfg, sink=sink)   # a task's probe hook
    store = CalibrationStore(run_dir); store.epochs() → [1, 2, …]
    store.load(3).reliability().ece;  store.ece_history() → ([1, 2, 3], [0.12, 0.08, 0.05])

Layout under ``run_dir/probes``:

    calibration-meta.json        which split (validation, or test when the run has none),
                                 how many of its images, the bins
    calibration-epoch-NNNN.npz   confidence (float32) and correct (bool) of each held-out
                                 image, ece, nll, accuracy

The held-out images are the run's own validation split (the same seeded split training
uses), or its test split when it has no validation split; at most ``MAX_IMAGES`` of them,
picked evenly spaced (no random numbers: the model's random streams and the global ones
are left alone, so exact resume holds). One inference pass a epoch, on the epoch writer's
thread, like the other probes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.probes import calibration as cal
from cnnstudio.core.probes.store import EpochStore, save_npz, write_json

MAX_IMAGES = 1000       # one cheap predict a epoch; enough for 15 bins to mean something
BATCH = 128


@dataclass
class HeldOut:
    x: np.ndarray            # images as fit sees them
    y: np.ndarray            # int labels
    split: str               # "validation" or "test"
    total: int               # images in that split (x holds at most MAX_IMAGES of them)


def evenly_spaced(indices, limit: int) -> np.ndarray:
    """At most ``limit`` of ``indices``, spread evenly over them (deterministic)."""
    indices = np.asarray(indices, np.int64)
    if len(indices) <= limit:
        return indices
    return indices[np.linspace(0, len(indices) - 1, limit).round().astype(np.int64)]


def held_out_images(dataset, validation_split: float, seed: int,
                    limit: int = MAX_IMAGES) -> HeldOut:
    """The run's validation images (its test images when it has no validation split)."""
    from cnnstudio.core.datasets.base import ArraySplit
    from cnnstudio.core.errors import StudioError
    from cnnstudio.core.training.batches import arrays_for, split_indices

    train = dataset.train
    _, val_idx = split_indices(len(train), validation_split, seed)   # training's own split
    if len(val_idx):
        source, indices, split = train, val_idx, "validation"
    else:
        source, indices, split = dataset.test, np.arange(len(dataset.test)), "test"
    if len(indices) == 0:
        raise StudioError("the run has neither validation nor test images to measure "
                          "calibration on")
    picks = evenly_spaced(indices, limit)
    if isinstance(source, ArraySplit):
        x, y = arrays_for(source, picks, dataset.input_shape)
    else:
        x, y, _skipped = source.images(picks)      # unreadable files are left out
    return HeldOut(np.asarray(x), np.asarray(y, np.int64), split, int(len(indices)))


def predict_probabilities(model, x: np.ndarray, batch: int = BATCH) -> np.ndarray:
    """The model's softmax output for ``x``, in batches, in inference mode."""
    out = [np.asarray(model(np.asarray(x[i:i + batch], np.float32), training=False))
           for i in range(0, len(x), batch)]
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, 0))


@dataclass
class CalibrationFrame:
    """One epoch's record: enough to redraw its reliability diagram with any bin count."""
    epoch: int
    confidence: np.ndarray     # (N,) top-1 probability
    correct: np.ndarray        # (N,) bool
    ece: float                 # with the recorded bin count
    nll: float
    accuracy: float

    def reliability(self, bins: int = cal.BINS) -> cal.Reliability:
        return cal.reliability_from(self.confidence, self.correct, bins)


class CalibrationRecorder:
    """The epoch hook: ``recorder(model, epoch)`` writes ``calibration-epoch-NNNN.npz`` and
    emits ProbeReady("calibration", …) with the CalibrationFrame as payload."""

    def __init__(self, run_dir, dataset, validation_split: float, seed: int, sink=None,
                 limit: int = MAX_IMAGES, bins: int = cal.BINS):
        self.store = CalibrationStore(run_dir)
        self.dataset, self.validation_split, self.seed = dataset, validation_split, seed
        self.sink, self.limit, self.bins = sink, limit, bins
        self.held: HeldOut | None = None
        self._features: np.ndarray | None = None
        self.seconds: list[float] = []

    def _inputs(self, model) -> np.ndarray:
        """The held-out images, or, for a transfer model whose base is frozen, their base
        features, computed once: each epoch then costs only the head."""
        if getattr(model, "mode", None) == "feature-extraction" and hasattr(model, "base"):
            if self._features is None:
                self._features = predict_probabilities(model.base, self.held.x)
            return self._features
        return self.held.x

    def __call__(self, model, epoch: int) -> Path:
        t0 = time.perf_counter()
        if self.held is None:        # loaded here, on the writer thread, not at run start
            self.held = held_out_images(self.dataset, self.validation_split, self.seed,
                                        self.limit)
            self.dataset = None      # the run holds it; this recorder needs no more of it
            write_json(self.store.folder / "calibration-meta.json", {
                "version": 1, "split": self.held.split, "images": int(len(self.held.y)),
                "of": self.held.total, "bins": self.bins})
        probs = predict_probabilities(model, self._inputs(model))
        labels = self.held.y
        confidence, correct = cal.confidence_and_correct(probs, labels)
        rel = cal.reliability_from(confidence, correct, self.bins)
        nll = cal.negative_log_likelihood(cal.logits_from_probabilities(probs), labels)
        frame = CalibrationFrame(epoch, confidence.astype(np.float32), correct, rel.ece, nll,
                                 rel.overall_accuracy)
        path = save_npz(self.store.path(epoch), confidence=frame.confidence,
                        correct=frame.correct, ece=np.float64(frame.ece),
                        nll=np.float64(nll), accuracy=np.float64(frame.accuracy))
        self.seconds.append(time.perf_counter() - t0)
        if self.sink is not None:
            from cnnstudio.core.training.events import ProbeReady

            self.sink(ProbeReady("calibration", epoch, str(path), payload=frame))
        return path


def make_calibration_hook(run_dir, dataset, cfg, sink=None,
                          limit: int = MAX_IMAGES) -> CalibrationRecorder:
    """A task's ``probe_hooks`` entry: callable(model, epoch)."""
    return CalibrationRecorder(run_dir, dataset, cfg.validation_split, cfg.seed, sink, limit)


class CalibrationStore(EpochStore):
    """Reads what the recorder wrote; works on a run reopened from disk."""
    PREFIX = "calibration-"
    WHAT = "calibration records"

    def meta(self) -> dict:
        return self.read_json("calibration-meta.json")

    def load(self, epoch: int) -> CalibrationFrame:
        with np.load(self.existing(epoch)) as data:
            return CalibrationFrame(int(epoch), data["confidence"].astype(np.float64),
                                    data["correct"].astype(bool), float(data["ece"]),
                                    float(data["nll"]), float(data["accuracy"]))

    read = load            # what the epoch slider (gui/widgets/epoch_replay.py) asks for

    def ece_history(self) -> tuple[list[int], list[float]]:
        """Every stored epoch and its ECE (the curve), reading only that scalar of each file."""
        epochs, values = [], []
        for epoch in self.epochs():
            try:
                with np.load(self.path(epoch)) as data:
                    values.append(float(data["ece"]))
                epochs.append(epoch)
            except (OSError, KeyError, ValueError):     # replaced while read: next time
                continue
        return epochs, values
