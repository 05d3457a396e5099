"""What changed between two epochs: the test images whose prediction flipped.

    hook = make_prediction_hook(run_dir, dataset, sink=sink)   # the classifier's probe hook
    store = PredictionStore(run_dir); store.epochs() → [1, 2, …]
    found = compare(run_dir, 3, 7)
    found.right_to_wrong, found.wrong_to_right      # positions in store.meta()["indices"]

Checkpoints keep only the last two epochs, so every epoch's predicted class of (at most
``MAX_IMAGES``, evenly spaced) test images is recorded under ``run_dir/probes``:

    predictions-meta.json        the test indices recorded, their labels, of how many
    predictions-epoch-NNNN.npz   predicted (int16) and confidence (float16) of each

A run trained before this record existed can still compare its checkpoints and final
model: ``record_from_model`` writes the same file for them (``compare_saved``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.probes.calibration_record import evenly_spaced, predict_probabilities
from cnnstudio.core.probes.store import EpochStore, save_npz, write_json

MAX_IMAGES = 1000       # one cheap predict an epoch, like the calibration record…
MIN_IMAGES = 100
PIXEL_BUDGET = 1000 * 32 * 32 * 3     # …but big images cost more: ~100 at 224×224×3
META = "predictions-meta.json"


class PredictionStore(EpochStore):
    PREFIX = "predictions-"
    WHAT = "test predictions"

    def meta(self) -> dict:
        return self.read_json(META)

    def load(self, epoch: int) -> PredictionFrame:
        with np.load(self.existing(epoch)) as data:
            return PredictionFrame(int(epoch), data["predicted"].astype(np.int64),
                                   data["confidence"].astype(np.float32))

    read = load


@dataclass
class PredictionFrame:
    epoch: int
    predicted: np.ndarray      # (N,) class of each recorded test image
    confidence: np.ndarray     # (N,) its probability


def test_images(dataset, indices) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(uint8 images at the dataset's size, labels, the indices read): unreadable files of
    a folder dataset are left out, their indices with them."""
    from cnnstudio.core.datasets.base import ArraySplit
    from cnnstudio.core.training.batches import arrays_for

    split, indices = dataset.test, np.asarray(indices, np.int64)
    if isinstance(split, ArraySplit):
        x, y = arrays_for(split, indices, dataset.input_shape)
        return np.asarray(x), np.asarray(y, np.int64), indices
    x, y, skipped = split.images(indices)
    bad = {path for path, _ in skipped}
    kept = np.array([i for i in indices if str(split.paths[i]) not in bad], np.int64)
    return np.asarray(x), np.asarray(y, np.int64), kept


class PredictionRecorder:
    """The epoch hook: ``recorder(model, epoch)`` writes ``predictions-epoch-NNNN.npz`` and
    emits ProbeReady("predictions", …) with the PredictionFrame as payload."""

    def __init__(self, run_dir, dataset, sink=None, limit: int = MAX_IMAGES):
        self.store = PredictionStore(run_dir)
        self.dataset, self.sink, self.limit = dataset, sink, limit
        self.x: np.ndarray | None = None
        self._features: np.ndarray | None = None
        self.seconds: list[float] = []

    def _load(self) -> None:
        """On the writer thread at the first epoch (no random numbers: exact resume holds)."""
        total = len(self.dataset.test)
        x, y, kept = test_images(self.dataset, evenly_spaced(np.arange(total), self.limit))
        self.x, self.dataset = x, None
        write_json(self.store.folder / META, {"version": 1, "split": "test", "of": int(total),
                                              "indices": kept.tolist(), "labels": y.tolist()})

    def _inputs(self, model) -> np.ndarray:
        # A frozen transfer base gives the same features every epoch: computed once.
        if getattr(model, "mode", None) == "feature-extraction" and hasattr(model, "base"):
            if self._features is None:
                self._features = predict_probabilities(model.base, self.x)
            return self._features
        return self.x

    def __call__(self, model, epoch: int) -> Path | None:
        t0 = time.perf_counter()
        if self.x is None:
            self._load()
        if not len(self.x):
            return None
        probs = predict_probabilities(model, self._inputs(model))
        frame = PredictionFrame(epoch, probs.argmax(axis=1), probs.max(axis=1))
        path = save_npz(self.store.path(epoch), predicted=frame.predicted.astype(np.int16),
                        confidence=frame.confidence.astype(np.float16))
        self.seconds.append(time.perf_counter() - t0)
        if self.sink is not None:
            from cnnstudio.core.training.events import ProbeReady

            self.sink(ProbeReady("predictions", epoch, str(path), payload=frame))
        return path


def image_limit(input_shape) -> int:
    """How many test images to record: 1,000 up to CIFAR's size, fewer for larger images
    (their forward pass costs more), never under 100."""
    pixels = int(np.prod(input_shape))
    return int(np.clip(PIXEL_BUDGET // max(pixels, 1), MIN_IMAGES, MAX_IMAGES))


def make_prediction_hook(run_dir, dataset, sink=None, limit: int | None = None):
    """A task's ``probe_hooks`` entry: callable(model, epoch)."""
    limit = image_limit(dataset.input_shape) if limit is None else limit
    return PredictionRecorder(run_dir, dataset, sink, limit)


@dataclass
class Flips:
    before: int                     # the two epochs compared
    after: int
    right_to_wrong: np.ndarray      # positions (into the recorded images) that broke
    wrong_to_right: np.ndarray      # … that were fixed
    wrong_to_other: np.ndarray      # wrong at both, but a different wrong answer
    accuracy_before: float
    accuracy_after: float
    count: int                      # images compared

    def summary(self) -> str:
        return (f"epoch {self.before} → {self.after} on {self.count} test images: accuracy "
                f"{self.accuracy_before:.1%} → {self.accuracy_after:.1%}; "
                f"{len(self.right_to_wrong)} right → wrong, {len(self.wrong_to_right)} "
                f"wrong → right, {len(self.wrong_to_other)} wrong → another wrong class")


def flips(labels, before, after, epochs: tuple[int, int] = (0, 0)) -> Flips:
    """Which predictions flipped between two epochs' ``before`` and ``after`` classes."""
    labels, before, after = (np.asarray(a, np.int64) for a in (labels, before, after))
    if not len(labels) == len(before) == len(after):
        raise StudioError(f"the two epochs recorded different images ({len(before)} and "
                          f"{len(after)} predictions for {len(labels)} labels)")
    ok_b, ok_a = before == labels, after == labels
    n = max(len(labels), 1)
    return Flips(int(epochs[0]), int(epochs[1]), np.flatnonzero(ok_b & ~ok_a),
                 np.flatnonzero(~ok_b & ok_a), np.flatnonzero(~ok_b & ~ok_a & (before != after)),
                 float(ok_b.sum() / n), float(ok_a.sum() / n), int(len(labels)))


def compare(run_dir, before: int, after: int) -> Flips:
    store = PredictionStore(run_dir)
    labels = store.meta().get("labels")
    if labels is None:
        raise StudioError(f"run {Path(run_dir).name} has no per-epoch test predictions "
                          "(trained before they were recorded)")
    return flips(labels, store.load(before).predicted, store.load(after).predicted,
                 (before, after))


# -- runs trained before the record: their checkpoints and final model --------------------

def saved_epochs(run_dir) -> dict[int, Path]:
    """Epochs whose model is on disk: the kept checkpoints and the final model (its epoch
    read from the metrics)."""
    from cnnstudio.core.training.rundir import RunDir

    folder = RunDir.open(run_dir)
    found = dict(folder.checkpoints())
    final = Path(folder.path) / "model.keras"
    if final.is_file():
        epochs = [int(r["epoch"]) for r in folder.epoch_history() if "epoch" in r]
        if epochs:
            found.setdefault(max(epochs), final)
    return found


def record_from_model(run_dir, model, epoch: int, limit: int | None = None) -> Path:
    """Write the epoch's record from a saved model (the meta too, if missing)."""
    from cnnstudio.core.datasets import load_dataset
    from cnnstudio.core.training.rundir import RunDir

    store = PredictionStore(run_dir)
    meta = store.meta()
    dataset = load_dataset(RunDir.open(run_dir).config().dataset)
    if not meta:
        limit = image_limit(dataset.input_shape) if limit is None else limit
        indices = evenly_spaced(np.arange(len(dataset.test)), limit)
    else:
        indices = meta["indices"]
    x, y, kept = test_images(dataset, indices)
    if not meta:
        write_json(store.folder / META, {"version": 1, "split": "test", "of": len(dataset.test),
                                         "indices": kept.tolist(), "labels": y.tolist()})
    probs = predict_probabilities(model, x)
    return save_npz(store.path(epoch), predicted=probs.argmax(axis=1).astype(np.int16),
                    confidence=probs.max(axis=1).astype(np.float16))


def available_epochs(run_dir) -> list[int]:
    """Epochs that can be compared: recorded ones and those with a model on disk."""
    return sorted(set(PredictionStore(run_dir).epochs()) | set(saved_epochs(run_dir)))


def ensure_recorded(run_dir, epoch: int) -> None:
    """Record ``epoch`` from its checkpoint (or the final model) when it was not recorded."""
    if PredictionStore(run_dir).path(epoch).is_file():
        return
    path = saved_epochs(run_dir).get(int(epoch))
    if path is None:
        raise StudioError(f"epoch {epoch} has neither a prediction record nor a saved model")
    from cnnstudio.core.predict import load_model_file

    record_from_model(run_dir, load_model_file(path), epoch)
