"""How sure is it: reliability bins, the expected calibration error and temperature scaling.

    rel = reliability(probs, labels)          # 15 equal-width bins of the top-1 confidence
    rel.ece, rel.counts, rel.accuracy         # ECE = Σ_b (n_b / N) · |acc_b − conf_b|
    t = fit_temperature(logits_from_probabilities(val_probs), val_labels)
    calibrated = apply_temperature(probs, t)  # softmax(log p / T): same ranking, new confidence

A classifier is *calibrated* when, of the images it gives 80 % to, 80 % are right. The
reliability diagram puts the accuracy of each confidence bin against the bin's mean
confidence; the diagonal is perfect calibration. Temperature scaling (Guo et al. 2017)
divides the logits by one number T > 0 fitted on held-out images by minimising the negative
log-likelihood: T > 1 softens an over-confident network, and the top class never changes.

The studio's classifiers end in a softmax, so their logits are recovered as log p: those
differ from the true logits by a per-image constant, which softmax(z / T) ignores, so
temperature scaling on log p is exactly temperature scaling on the logits.

Numpy in, numpy out; no Keras.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnstudio.core.errors import StudioError

BINS = 15
# Search range of T: far wider than any real network needs (typical fits: 0.8–3).
T_RANGE = (0.02, 50.0)
TINY = 1e-12           # log(0) guard: a float16 probability of exactly 0


@dataclass
class Reliability:
    """One reliability diagram: per equal-width confidence bin, how many images fell in it,
    their mean confidence and their accuracy (NaN for an empty bin)."""
    edges: np.ndarray          # (bins + 1,) from 0 to 1
    counts: np.ndarray         # (bins,) int
    confidence: np.ndarray     # (bins,) mean top-1 confidence of the bin's images
    accuracy: np.ndarray       # (bins,) fraction of them predicted right
    ece: float                 # expected calibration error
    overall_accuracy: float
    mean_confidence: float

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def to_dict(self) -> dict:
        def plain(a):
            return [None if not np.isfinite(v) else round(float(v), 6) for v in a]
        return {"edges": plain(self.edges), "counts": [int(c) for c in self.counts],
                "confidence": plain(self.confidence), "accuracy": plain(self.accuracy),
                "ece": self.ece, "accuracy_overall": self.overall_accuracy,
                "mean_confidence": self.mean_confidence}


def _checked(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(probs, np.float64)
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise StudioError(f"calibration needs class probabilities shaped (images, classes), "
                          f"got shape {probs.shape}")
    if len(probs) != len(labels):
        raise StudioError(f"{len(probs)} predictions but {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() >= probs.shape[1]):
        raise StudioError(f"labels must lie in 0…{probs.shape[1] - 1}, got "
                          f"{labels.min()}…{labels.max()}")
    return probs, labels


def confidence_and_correct(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    """Each image's top-1 probability and whether its top-1 class is the label."""
    probs, labels = _checked(probs, labels)
    return probs.max(axis=1), probs.argmax(axis=1) == labels


def reliability_from(confidence, correct, bins: int = BINS) -> Reliability:
    """The diagram from top-1 confidences and right/wrong flags (what the epoch files keep).
    Bins are (lo, hi], the first one [0, hi]: a confidence of exactly 1 lands in the last."""
    if int(bins) < 1:
        raise StudioError(f"the number of bins must be at least 1, got {bins}")
    confidence = np.clip(np.asarray(confidence, np.float64).reshape(-1), 0.0, 1.0)
    correct = np.asarray(correct, bool).reshape(-1)
    edges = np.linspace(0.0, 1.0, int(bins) + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, int(bins) - 1)
    counts = np.bincount(which, minlength=bins)
    conf_sum = np.bincount(which, weights=confidence, minlength=bins)
    right = np.bincount(which, weights=correct.astype(np.float64), minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(counts > 0, conf_sum / counts, np.nan)
        accuracy = np.where(counts > 0, right / counts, np.nan)
    n = max(len(confidence), 1)
    ece = float(np.abs(right - conf_sum).sum() / n)      # Σ n_b/N · |acc_b − conf_b|
    return Reliability(edges, counts, mean_conf, accuracy, ece,
                       float(correct.mean()) if len(correct) else float("nan"),
                       float(confidence.mean()) if len(confidence) else float("nan"))


def reliability(probs, labels, bins: int = BINS) -> Reliability:
    return reliability_from(*confidence_and_correct(probs, labels), bins=bins)


def expected_calibration_error(probs, labels, bins: int = BINS) -> float:
    return reliability(probs, labels, bins).ece


def logits_from_probabilities(probs) -> np.ndarray:
    """log p: the logits of a softmax output up to a per-image constant (see the module)."""
    return np.log(np.clip(np.asarray(probs, np.float64), TINY, None))


def softmax(logits) -> np.ndarray:
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _valid_temperature(temperature) -> float:
    t = float(temperature)
    if not np.isfinite(t) or t <= 0:
        raise StudioError(f"the temperature must be a positive number, got {temperature}")
    return t


def scale_logits(logits, temperature: float) -> np.ndarray:
    """softmax(logits / T): calibrated probabilities from logits."""
    return softmax(np.asarray(logits, np.float64) / _valid_temperature(temperature))


def apply_temperature(probs, temperature: float) -> np.ndarray:
    """Calibrated probabilities from a softmax output: softmax(log p / T)."""
    return scale_logits(logits_from_probabilities(probs), temperature)


def negative_log_likelihood(logits, labels, temperature: float = 1.0) -> float:
    """Mean −log softmax(logits / T)[label]."""
    z = np.asarray(logits, np.float64) / _valid_temperature(temperature)
    z = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    labels = np.asarray(labels, np.int64).reshape(-1)
    return float((log_norm - z[np.arange(len(labels)), labels]).mean())


def fit_temperature(logits, labels) -> float:
    """The T > 0 that minimises the held-out NLL of softmax(logits / T).

    The NLL is convex in 1/T, so it has one minimum along log T too: a bounded scalar
    search on log T finds it (to ~1e-6 in log T) without a gradient."""
    from scipy.optimize import minimize_scalar

    logits, labels = _checked(logits, labels)
    if len(logits) < 2:
        raise StudioError(f"fitting a temperature needs at least 2 held-out images, "
                          f"got {len(logits)}")
    lo, hi = np.log(T_RANGE[0]), np.log(T_RANGE[1])
    found = minimize_scalar(lambda log_t: negative_log_likelihood(logits, labels,
                                                                  np.exp(log_t)),
                            bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(found.x))


@dataclass
class TemperatureFit:
    """What fitting T on one held-out set did to it."""
    temperature: float
    images: int
    before: Reliability
    after: Reliability
    nll_before: float
    nll_after: float

    def to_dict(self) -> dict:
        return {"temperature": round(self.temperature, 6), "images": self.images,
                "ece_before": round(self.before.ece, 6), "ece_after": round(self.after.ece, 6),
                "nll_before": round(self.nll_before, 6), "nll_after": round(self.nll_after, 6),
                "accuracy": round(self.before.overall_accuracy, 6)}


def fit_on_probabilities(probs, labels, bins: int = BINS) -> TemperatureFit:
    """Fit T on a softmax output and measure the ECE and NLL before and after."""
    probs, labels = _checked(probs, labels)
    logits = logits_from_probabilities(probs)
    t = fit_temperature(logits, labels)
    return evaluate_temperature(probs, labels, t, bins)


def evaluate_temperature(probs, labels, temperature: float, bins: int = BINS) -> TemperatureFit:
    """The ECE and NLL of ``probs`` before and after a given T (e.g. on the test set)."""
    probs, labels = _checked(probs, labels)
    logits = logits_from_probabilities(probs)
    return TemperatureFit(float(temperature), len(labels), reliability(probs, labels, bins),
                          reliability(scale_logits(logits, temperature), labels, bins),
                          negative_log_likelihood(logits, labels),
                          negative_log_likelihood(logits, labels, temperature))
