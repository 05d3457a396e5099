"""Chapter 3's evaluation views: confusion matrix, per-class metrics, and the error gallery.

    cm = confusion_matrix(y_true, y_pred, classes)
    m = class_metrics(cm)                 # precision, recall, f1, support per class
    cell_indices(y_true, y_pred, 3, 5)    # the test images that are 3s read as 5s
    error_order(y_true, probs)            # misclassified, most confidently wrong first

``SplitPredictions.for_run`` predicts a run's whole test split once and caches
the probabilities in ``probes/test-predictions.npz``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnstudio.core.probes.store import save_npz


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """cm[t, p] = how many images of true class t were predicted as p."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    flat = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


@dataclass
class ClassMetrics:
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    accuracy: float


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    # A class never predicted (or never present) scores 0, as scikit-learn's zero_division=0.
    return np.divide(num, den, out=np.zeros(num.shape, np.float64), where=den > 0)


def class_metrics(cm: np.ndarray) -> ClassMetrics:
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    precision = _ratio(tp, cm.sum(axis=0))
    recall = _ratio(tp, cm.sum(axis=1))
    f1 = _ratio(2 * precision * recall, precision + recall)
    total = cm.sum()
    return ClassMetrics(precision, recall, f1, cm.sum(axis=1).astype(np.int64),
                        float(tp.sum() / total) if total else 0.0)


def cell_indices(y_true, y_pred, true_class: int, pred_class: int) -> np.ndarray:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.flatnonzero((y_true == true_class) & (y_pred == pred_class))


def error_order(y_true, probs: np.ndarray) -> np.ndarray:
    """Indices of misclassified images, worst first: least probability left for the true class."""
    y_true = np.asarray(y_true, dtype=np.int64)
    probs = np.asarray(probs)
    wrong = np.flatnonzero(probs.argmax(axis=1) != y_true)
    true_prob = probs[wrong, y_true[wrong]]
    return wrong[np.argsort(true_prob, kind="stable")]


@dataclass
class SplitPredictions:
    images: np.ndarray       # uint8 (N, H, W, C)
    y_true: np.ndarray       # (N,)
    probs: np.ndarray        # (N, classes) float32
    class_names: list[str]

    @property
    def y_pred(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.y_true, self.y_pred, len(self.class_names))

    @classmethod
    def for_model(cls, model, images, y_true, class_names, batch_size: int = 256):
        images = np.asarray(images)
        probs = np.concatenate([
            np.asarray(model.predict_on_batch(images[i:i + batch_size].astype(np.float32)))
            for i in range(0, len(images), batch_size)]) if len(images) else \
            np.zeros((0, len(class_names)), np.float32)
        return cls(images, np.asarray(y_true, np.int64), probs.astype(np.float32),
                   list(class_names))

    @classmethod
    def for_run(cls, run_dir, model=None, cache: bool = True) -> SplitPredictions:
        """The run's test split, predicted by its final (or newest) model; cached on disk."""
        from cnnstudio.core.datasets import load_dataset
        from cnnstudio.core.predict import load_model_file
        from cnnstudio.core.training.rundir import RunDir

        folder = RunDir.open(run_dir)
        model_path = folder.model_path()
        if model is None and model_path is None:
            raise FileNotFoundError(f"run {folder.path.name} has no model yet")
        stamp = model_path.stat().st_mtime if model_path else 0.0
        cached = folder.path / "probes" / "test-predictions.npz"
        config = folder.config()
        dataset = load_dataset(config.dataset)
        images, y_true, _ = dataset.test.images(np.arange(len(dataset.test)))
        if cache and model is None and cached.is_file():
            with np.load(cached) as data:
                if float(data["stamp"]) == stamp and len(data["probs"]) == len(images):
                    return cls(images, y_true.astype(np.int64), data["probs"],
                               list(dataset.class_names))
        from_disk = model is None
        model = model or load_model_file(model_path)
        result = cls.for_model(model, images, y_true, dataset.class_names)
        if cache and from_disk:
            save_npz(cached, probs=result.probs, stamp=np.float64(stamp))
        return result
