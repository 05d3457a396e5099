"""Does an image look like the ones a classifier was trained on? A score on the features the
classifier's last layer reads, calibrated on held-out images at the end of training.

A classifier answers every input with a probability over its classes: a LeNet asked about the
astronaut says "8" at 46 %. The score says when such an answer is a guess. It is the larger
of two standardised signals about the penultimate features ``f`` (the input of the Dense
layer named ``predictions`` that ends every classifier, ``model_parts.classifier_head``):

- energy (Liu et al. 2020): ``-logsumexp(f·W + b)`` with the head's own weights. Low when
  some class's logit is large, high when the network finds nothing it knows;
- Mahalanobis distance (Lee et al. 2018): to the nearest class mean, with one covariance
  shared by the classes (Ledoit–Wolf shrinkage), fitted on training features; its log, less
  an allowance of ``ALLOWANCE`` standard deviations, catches features that are strong but
  lie far from every class, where the energy alone is over-confident.

Each signal is standardised by its mean and spread over the calibration images (the
validation split, else the test split) and the flag is raised above the ``PERCENTILE``-th
percentile of their combined score: about 2 % of images like the training ones are flagged.
On mnist-5k (benchmarks/ood.py) energy alone separates digits from photo crops and textures
at an AUROC of about 0.98, the Mahalanobis distance alone at about 0.75 (after the photo
preparation the crops give weak ReLU features that lie near the class means in its metric),
and the two together a little better than energy (+0.002 to 0.005).

Stored in the run directory: ``familiarity.npz`` (class means, precision matrix) and
``familiarity.json`` (the scalars, written last: its presence says the pair is complete).
The scoring needs the model's head weights, so it always goes with the model it was fitted
on (the run's final ``model.keras``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.probes.store import save_npz, write_json

JSON_FILE, NPZ_FILE = "familiarity.json", "familiarity.npz"
HEAD = "predictions"          # the softmax Dense layer every classifier ends in
PERCENTILE = 98.0             # of the calibration scores: ~2 % of familiar images flagged
ALLOWANCE = 0.5               # standard deviations the Mahalanobis signal is given
MIN_CALIBRATION = 100         # fewer held-out images: no statistics
MAX_TRAIN = 5000              # training images the class means and covariance are fitted on
MAX_CALIBRATION = 5000
MAX_DIM = 1024                # wider features: energy only (a d×d precision would be large)
BUDGET_S = 20.0               # seconds of feature extraction at most, per split
VERSION = 1


def head_layer(model):
    """The classifier's ``predictions`` Dense layer, or None."""
    try:
        layer = model.get_layer(HEAD)
    except (ValueError, AttributeError):
        return None
    return layer if len(getattr(layer, "weights", ())) == 2 else None


def head_weights(model) -> tuple[np.ndarray, np.ndarray] | None:
    layer = head_layer(model)
    if layer is None:
        return None
    kernel, bias = (np.asarray(w, np.float64) for w in layer.get_weights())
    return kernel, bias


def feature_model(model):
    """A Keras model from the classifier's inputs to its penultimate features, or None for a
    model without a symbolic graph (a subclassed model) or without a ``predictions`` head."""
    layer = head_layer(model)
    if layer is None:
        return None
    try:
        inputs, features = model.inputs, layer.input
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    from cnnstudio.core.keras_setup import keras

    return keras().Model(inputs, features, name="penultimate")


def extract(extractor, source, limit: int, batch_size: int = 256,
            budget_s: float = BUDGET_S) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of up to ``limit`` images of ``source``: (x, y) arrays or a Keras
    PyDataset of (x, y) batches; stops early after ``budget_s`` seconds."""
    from cnnstudio.core.training.batches import iter_batches  # imports Keras

    feats, labels, count, start = [], [], 0, time.perf_counter()
    for x, y in iter_batches(source, batch_size):
        x = np.asarray(x, np.float32)[:limit - count]
        feats.append(np.asarray(extractor.predict_on_batch(x), np.float64).reshape(len(x), -1))
        labels.append(np.asarray(y).reshape(-1)[:len(x)])
        count += len(x)
        if count >= limit or time.perf_counter() - start > budget_s:
            break
    if not feats:
        return np.zeros((0, 0)), np.zeros(0, np.int64)
    return np.concatenate(feats), np.concatenate(labels).astype(np.int64)




@dataclass
class Familiarity:
    """The fitted statistics; ``score`` of penultimate features, higher = less familiar."""
    kernel: np.ndarray            # the head's Dense weights (d × C) and bias (C): the logits
    bias: np.ndarray
    means: np.ndarray | None      # class means (C × d); None: energy only
    precision: np.ndarray | None  # inverse of the shared covariance (d × d)
    energy_ref: tuple[float, float] = (0.0, 1.0)       # mean, std over the calibration set
    distance_ref: tuple[float, float] = (0.0, 1.0)     # of log Mahalanobis distances
    threshold: float = float("inf")
    info: dict | None = None      # percentile, calibrated_on, counts (familiarity.json)

    def energy(self, features: np.ndarray) -> np.ndarray:
        logits = np.asarray(features, np.float64) @ self.kernel + self.bias
        top = logits.max(axis=1, keepdims=True)
        return -(top[:, 0] + np.log(np.exp(logits - top).sum(axis=1)))

    def distance(self, features: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance to the nearest class mean."""
        f = np.asarray(features, np.float64)
        pf = f @ self.precision
        pm = self.means @ self.precision
        # (f-m)ᵀP(f-m) = fᵀPf - 2 fᵀPm + mᵀPm, for every class at once
        d = ((pf * f).sum(1)[:, None] - 2 * pf @ self.means.T
             + (pm * self.means).sum(1)[None, :])
        return np.maximum(d.min(axis=1), 0.0)

    def signals(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """The standardised signals: ``energy`` and (when fitted) ``distance``."""
        mean, std = self.energy_ref
        out = {"energy": (self.energy(features) - mean) / std}
        if self.means is not None:
            mean, std = self.distance_ref
            out["distance"] = (np.log(self.distance(features) + 1e-12) - mean) / std
        return out

    def score(self, features: np.ndarray) -> np.ndarray:
        s = self.signals(features)
        if "distance" not in s:
            return s["energy"]
        return np.maximum(s["energy"], s["distance"] - ALLOWANCE)

    def judge(self, features: np.ndarray) -> list[dict]:
        """One {"score", "threshold", "unfamiliar"} a row of features."""
        return [{"score": round(float(s), 4), "threshold": round(self.threshold, 4),
                 "unfamiliar": bool(s > self.threshold)} for s in self.score(features)]

    # -- files --------------------------------------------------------------------
    def save(self, run_dir) -> None:
        run_dir = Path(run_dir)
        arrays = {} if self.means is None else {"means": self.means.astype(np.float32),
                                                "precision": self.precision.astype(np.float32)}
        save_npz(run_dir / NPZ_FILE, **arrays)
        write_json(run_dir / JSON_FILE, {
            "version": VERSION, "method": "energy" if self.means is None
            else "max(energy, mahalanobis - allowance)",
            "allowance": ALLOWANCE, "energy_ref": list(self.energy_ref),
            "distance_ref": list(self.distance_ref), "threshold": self.threshold,
            "features": int(self.kernel.shape[0]), "classes": int(self.kernel.shape[1]),
            **(self.info or {})})

    @classmethod
    def load(cls, run_dir, model) -> Familiarity | None:
        """The run's statistics for ``model``, or None (none stored, unreadable, or made for
        another head)."""
        import json

        run_dir = Path(run_dir)
        weights = head_weights(model)
        try:
            info = json.loads((run_dir / JSON_FILE).read_text(encoding="utf-8"))
            with np.load(run_dir / NPZ_FILE) as npz:
                arrays = {k: np.asarray(npz[k], np.float64) for k in npz.files}
        except (OSError, ValueError):
            return None
        if weights is None or info.get("version") != VERSION \
                or [info.get("features"), info.get("classes")] != list(weights[0].shape):
            return None
        means, precision = arrays.get("means"), arrays.get("precision")
        if means is not None and (precision is None or means.shape != weights[0].T.shape):
            return None
        return cls(*weights, means, precision, tuple(info["energy_ref"]),
                   tuple(info["distance_ref"]), float(info["threshold"]), info)


def fit(train_features: np.ndarray, train_labels: np.ndarray, calibration: np.ndarray,
        kernel: np.ndarray, bias: np.ndarray, percentile: float = PERCENTILE) -> Familiarity:
    """Class means and shared covariance from the training features; the signals' scales and
    the threshold (``percentile`` of the scores) from the calibration features."""
    kernel, bias = np.asarray(kernel, np.float64), np.asarray(bias, np.float64)
    classes = kernel.shape[1]
    f = np.asarray(train_features, np.float64)
    y = np.asarray(train_labels, np.int64)
    means = precision = None
    present = [c for c in range(classes) if np.any(y == c)]
    if f.shape[1] <= MAX_DIM and len(present) >= 2 and len(f) > f.shape[1] // 4:
        means = np.stack([f[y == c].mean(0) if c in present else np.full(f.shape[1], np.inf)
                          for c in range(classes)])
        covariance = ledoit_wolf(f - means[y])
        precision = np.linalg.pinv(covariance, hermitian=True)
        means = np.where(np.isfinite(means), means, 1e6)    # an absent class: never nearest
    fam = Familiarity(kernel, bias, means, precision)
    raw = np.asarray(calibration, np.float64)
    fam.energy_ref = _ref(fam.energy(raw))
    if means is not None:
        fam.distance_ref = _ref(np.log(fam.distance(raw) + 1e-12))
    fam.threshold = float(np.percentile(fam.score(raw), percentile))
    fam.info = {"percentile": percentile, "train_images": int(len(f)),
                "calibration_images": int(len(raw))}
    return fam


def ledoit_wolf(x: np.ndarray) -> np.ndarray:
    """The covariance of centred rows ``x``, shrunk towards a multiple of the identity by
    Ledoit and Wolf's (2004) optimal amount (as ``sklearn.covariance.ledoit_wolf`` with
    ``assume_centered=True``, without importing scikit-learn at the end of every run)."""
    n, d = x.shape
    cov = x.T @ x / n
    mu = np.trace(cov) / d
    x2 = x ** 2
    beta = ((x2.T @ x2).sum() / n - (cov ** 2).sum()) / (d * n)
    delta = ((cov ** 2).sum() - 2 * mu * np.trace(cov) + d * mu ** 2) / d
    shrinkage = 0.0 if delta <= 0 else min(beta, delta) / delta
    return (1 - shrinkage) * cov + shrinkage * mu * np.eye(d)


def _ref(values: np.ndarray) -> tuple[float, float]:
    return float(values.mean()), max(float(values.std()), 1e-9)


def fit_run(model, train, calibration, run_dir=None, calibrated_on: str = "validation",
            percentile: float = PERCENTILE) -> Familiarity | None:
    """Extract features of ``train`` and ``calibration`` ((x, y) arrays or PyDatasets), fit,
    and (given ``run_dir``) save. None when the model has no penultimate features to read or
    too few calibration images came back."""
    extractor, weights = feature_model(model), head_weights(model)
    if extractor is None or weights is None:
        return None
    start = time.perf_counter()
    held, _ = extract(extractor, calibration, MAX_CALIBRATION)
    if len(held) < MIN_CALIBRATION:
        return None
    feats, labels = extract(extractor, train, MAX_TRAIN)
    if len(feats) == 0:
        return None
    fam = fit(feats, labels, held, *weights, percentile=percentile)
    fam.info.update(calibrated_on=calibrated_on,
                    seconds=round(time.perf_counter() - start, 2))
    if run_dir is not None:
        fam.save(run_dir)
    return fam
