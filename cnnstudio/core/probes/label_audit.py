"""Suspect labels (issue 27 §3): which training images are probably labelled wrong.

    probs = out_of_sample_probabilities(run_dir, x, y, folds=3, epochs=2, progress=report)
    found = suspects(probs, y)      # [(index, given, suggested, self_confidence)], worst first

Each image's probabilities come from a model that never saw it: k models of the run's
architecture, each trained (plain Keras ``fit``, the run's optimizer, rate, batch size and
regularisation; no augmentation) on k−1 folds and asked about the fold it left out.
cleanlab's ``find_label_issues`` then picks the images whose given label disagrees with
those probabilities more than the estimated noise explains, ranked by self-confidence (the
probability left for the given label: lowest first).

``audit_run`` does it all for a run folder and keeps the answer in ``run_dir/label-audit.npz``,
which the Suspect labels tab and ``cnnstudio audit`` read back. ``progress(fraction, text)``
may raise (``AuditCancelled``) to stop between batches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from cnnstudio.core.errors import StudioError

FILE = "label-audit.npz"
INSTALL = "pip install 'cleanlab>=2.6'"      # a base dependency: only a broken install lacks it
Progress = Callable[[float, str], None]


class AuditCancelled(Exception):
    """Raise from a progress callback to stop the k-fold training."""


def _config(config_or_run):
    from cnnstudio.core.config import RunConfig
    from cnnstudio.core.training.rundir import RunDir

    if isinstance(config_or_run, RunConfig):
        return config_or_run
    return RunDir.open(config_or_run).config()


def folds_of(y: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """Held-out indices of each fold: stratified (each class spread over the folds) when
    every class has at least ``folds`` images, else plain shuffled folds."""
    from sklearn.model_selection import KFold, StratifiedKFold

    counts = np.bincount(y)
    stratify = counts[counts > 0].min() >= folds
    splitter = (StratifiedKFold if stratify else KFold)(folds, shuffle=True,
                                                         random_state=seed % 2**32)
    return [held for _, held in splitter.split(np.zeros(len(y)), y)]


def out_of_sample_probabilities(config_or_run, x, y, folds: int = 3, epochs: int = 2,
                                progress: Progress | None = None, *,
                                num_classes: int | None = None) -> np.ndarray:
    """(N, C) probabilities, each row from the model trained without that image."""
    from cnnstudio.core.keras_setup import keras
    from cnnstudio.core.registry import ARCHITECTURES, TASKS

    config = _config(config_or_run)
    x, y = np.asarray(x), np.asarray(y, np.int64)
    if len(x) != len(y) or x.ndim != 4:
        raise StudioError(f"images must be (N, H, W, C) with one label each; got {x.shape} "
                          f"images and {len(y)} labels")
    if not 2 <= folds <= 20:
        raise StudioError(f"folds must be between 2 and 20, got {folds}")
    if not 1 <= epochs <= 1000:
        raise StudioError(f"epochs must be between 1 and 1000, got {epochs}")
    if len(y) < 2 * folds:
        raise StudioError(f"{len(y)} images are too few for {folds} folds")
    classes = int(num_classes or y.max() + 1)
    arch = ARCHITECTURES.get(config.model.id)
    task = TASKS.get(arch.task)
    if not hasattr(task, "compile") or arch.task not in ("classification", "transfer"):
        raise StudioError(f"suspect labels need a classifier run; {config.model.id} is a "
                          f"{arch.task} model")
    cfg = config.training
    held_out = folds_of(y, folds, cfg.seed)
    batch = int(cfg.batch_size)
    per_fold = [-(-(len(y) - len(h)) // batch) for h in held_out]      # steps per epoch
    total = epochs * sum(per_fold)
    report = progress or (lambda fraction, text: None)

    class Steps(keras().callbacks.Callback):
        """Progress after each call (several steps per call: the batch index says where)."""

        def __init__(self, fold):
            super().__init__()
            self.fold, self.epoch = fold, 0
            self.base = epochs * sum(per_fold[:fold])

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch_index, logs=None):
            step = self.base + self.epoch * per_fold[self.fold] + batch_index + 1
            report(min(step / total, 1.0), f"fold {self.fold + 1} of {folds}, epoch "
                                           f"{self.epoch + 1} of {epochs}")

    # One model, traced once: each fold starts from the same initial weights and a fresh
    # optimizer state (retracing a new model per fold cost more than training a small one).
    keras().utils.set_random_seed(int(cfg.seed))
    builder = getattr(task, "build_model", None)
    shape, options = tuple(x.shape[1:]), config.model.options
    model = (builder(arch, shape, classes, options, cfg) if builder
             else arch.build(shape, classes, options))
    # The run's optimizer and schedule, spread over the audit's epochs (a cosine decay over
    # the run's 30 epochs would barely start in 2).
    steps = -(-(len(y) - len(held_out[0])) // batch)
    task.compile(model, replace(cfg, epochs=epochs), SimpleNamespace(steps_per_epoch=steps))
    # Several steps per call: a small model's per-step dispatch costs more than its sums.
    model.steps_per_execution = max(1, min(32, steps))
    model.optimizer.build(model.trainable_variables)
    initial = [np.array(w) for w in model.get_weights()]
    fresh = [np.array(v) for v in model.optimizer.variables]       # its rate included
    probs = np.zeros((len(y), classes), np.float64)
    for k, held in enumerate(held_out):
        report(epochs * sum(per_fold[:k]) / total, f"fold {k + 1} of {folds}: training")
        if k:
            model.set_weights(initial)
            for variable, value in zip(model.optimizer.variables, fresh, strict=True):
                variable.assign(value)
        train = np.setdiff1d(np.arange(len(y)), held)
        model.fit(x[train], y[train], batch_size=batch, epochs=epochs, shuffle=True,
                  verbose=0, callbacks=[Steps(k)])
        probs[held] = as_probabilities(model.predict(x[held], batch_size=256, verbose=0))
        report(epochs * sum(per_fold[:k + 1]) / total, f"fold {k + 1} of {folds}: done")
    return probs


def as_probabilities(out) -> np.ndarray:
    out = np.asarray(out, np.float64)
    if np.all(out >= -1e-6) and np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
        return out
    out = np.exp(out - out.max(axis=1, keepdims=True))     # logits: a softmax of our own
    return out / out.sum(axis=1, keepdims=True)


def suspects(probabilities, y) -> list[tuple[int, int, int, float]]:
    """cleanlab's likely label errors: (index, given, suggested, self-confidence), lowest
    self-confidence first. ``suggested`` is the likeliest class other than the given one."""
    try:
        from cleanlab.filter import find_label_issues
    except ImportError:
        raise StudioError(f"finding suspect labels needs cleanlab: {INSTALL}") from None
    probs = np.asarray(probabilities, np.float64)
    y = np.asarray(y, np.int64)
    if probs.ndim != 2 or len(probs) != len(y) or (len(y) and y.max() >= probs.shape[1]):
        raise StudioError(f"probabilities {probs.shape} do not match {len(y)} labels")
    # cleanlab wants every class among the labels; classes nobody was given get no column.
    present = np.unique(y)
    column = np.full(probs.shape[1], -1)
    column[present] = np.arange(len(present))
    sub = probs[:, present]
    sub = sub / np.maximum(sub.sum(axis=1, keepdims=True), 1e-12)
    if len(present) < 2:
        return []
    ranked = find_label_issues(column[y], sub, return_indices_ranked_by="self_confidence",
                               n_jobs=1)
    found = []
    for i in np.asarray(ranked, np.int64):
        given = int(y[i])
        others = probs[i].copy()
        others[given] = -1.0
        found.append((int(i), given, int(others.argmax()), float(probs[i, given])))
    return found


# -- a run folder -------------------------------------------------------------------------------
@dataclass
class TrainingSet:
    """A run's training images as the audit sees them (decisions the run applied included)."""
    x: np.ndarray           # uint8 (N, H, W, C)
    y: np.ndarray           # int (N,)
    keys: list[str]         # each image's name in the decisions file
    class_names: list[str]
    dataset_config: object  # the run's DatasetConfig


def training_set(config_or_run, limit: int | None = None) -> TrainingSet:
    """The run's training split in memory (unreadable files left out); at most ``limit``
    images, evenly spaced."""
    from types import SimpleNamespace

    from cnnstudio.core.datasets import load_dataset
    from cnnstudio.core.datasets.base import ArraySplit
    from cnnstudio.core.probes.calibration_record import evenly_spaced
    from cnnstudio.core.probes.label_decisions import dataset_root, image_keys

    config = _config(config_or_run)
    dataset = load_dataset(config.dataset)
    train, root = dataset.train, dataset_root(config.dataset)
    picks = evenly_spaced(np.arange(len(train)), limit or len(train))
    if isinstance(train, ArraySplit):
        x, y = train.x[picks], train.y[picks]
        paths = None if train.paths is None else [train.paths[i] for i in picks]
        keys = image_keys(SimpleNamespace(x=x, paths=paths), root)
    else:
        x, y, skipped = train.images(picks)
        unread = {path for path, _ in skipped}
        keys = image_keys(SimpleNamespace(paths=[train.paths[i] for i in picks
                                                 if str(train.paths[i]) not in unread]), root)
    return TrainingSet(np.asarray(x), np.asarray(y, np.int64), keys,
                       list(dataset.class_names), config.dataset)


@dataclass
class AuditResult:
    probabilities: np.ndarray       # (N, C) out of sample
    y: np.ndarray                   # the labels given
    keys: list[str]
    found: list[tuple[int, int, int, float]]
    folds: int
    epochs: int

    @property
    def accuracy(self) -> float:
        """How often the out-of-sample models agree with the given labels."""
        return float((self.probabilities.argmax(axis=1) == self.y).mean()) if len(self.y) \
            else 0.0


def audit_run(run_dir, folds: int = 3, epochs: int = 2, progress: Progress | None = None,
              data: TrainingSet | None = None) -> AuditResult:
    """k-fold probabilities and cleanlab's suspects for a run's training images; saved."""
    try:
        import cleanlab  # noqa: F401  (say so before minutes of training)
    except ImportError:
        raise StudioError(f"finding suspect labels needs cleanlab: {INSTALL}") from None
    data = data or training_set(run_dir)
    probs = out_of_sample_probabilities(run_dir, data.x, data.y, folds, epochs, progress,
                                        num_classes=len(data.class_names))
    result = AuditResult(probs, data.y, list(data.keys), suspects(probs, data.y), folds,
                         epochs)
    save_audit(run_dir, result)
    return result


def save_audit(run_dir, result: AuditResult) -> Path:
    from cnnstudio.core.probes.store import save_npz

    found = np.asarray(result.found, np.float64).reshape(-1, 4)
    return save_npz(Path(run_dir) / FILE, probabilities=result.probabilities.astype(np.float32),
                    y=result.y, keys=np.asarray(result.keys, dtype=str), found=found,
                    folds=result.folds, epochs=result.epochs)


def load_audit(run_dir) -> AuditResult | None:
    """The run's saved audit, or None (none yet, or unreadable)."""
    path = Path(run_dir) / FILE
    try:
        with np.load(path) as npz:
            found = [(int(i), int(g), int(s), float(c)) for i, g, s, c in npz["found"]]
            return AuditResult(npz["probabilities"].astype(np.float64), npz["y"],
                               [str(k) for k in npz["keys"]], found, int(npz["folds"]),
                               int(npz["epochs"]))
    except (OSError, KeyError, ValueError):
        return None


# -- training images ranked by loss ------------------------------------------------------------
def losses(probabilities, y) -> np.ndarray:
    """Each image's cross-entropy: −log of the probability left for its given label."""
    probs = np.asarray(probabilities, np.float64)
    return -np.log(np.clip(probs[np.arange(len(y)), np.asarray(y, np.int64)], 1e-12, 1.0))


def ranked_by_loss(probabilities, y, true: int | None = None,
                   predicted: int | None = None) -> np.ndarray:
    """Indices by loss, highest first; only confusion cell (true, predicted) when given."""
    probs = np.asarray(probabilities)
    y = np.asarray(y, np.int64)
    keep = np.ones(len(y), bool)
    if true is not None:
        keep &= y == true
    if predicted is not None:
        keep &= probs.argmax(axis=1) == predicted
    idx = np.flatnonzero(keep)
    return idx[np.argsort(-losses(probs[idx], y[idx]), kind="stable")]


def confusion(probabilities, y, classes: int) -> np.ndarray:
    cm = np.zeros((classes, classes), np.int64)
    np.add.at(cm, (np.asarray(y, np.int64), np.asarray(probabilities).argmax(axis=1)), 1)
    return cm
