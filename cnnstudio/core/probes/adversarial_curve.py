"""Accuracy against ε on (a sample of) a run's test set, with a row of examples per ε.

    images, labels, names = sample_test_split(run_dir, count=500)
    curve = accuracy_curve(model, images, labels, eps_values=EPS_LADDER, method="fgsm")
    curve.accuracy[0] == clean accuracy; curve.examples[i]: uint8 (k, H, W, C) at eps_values[i]

The examples are the same test images at every ε (the first ``examples`` the model gets
right when clean), one row per ε: down a column, one image drifts as ε grows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.probes.adversarial import PGD_STEPS, probabilities, run_attack

EPS_LADDER = (0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
SAMPLE = 500


@dataclass
class Curve:
    eps_values: list[float]
    accuracy: list[float]
    method: str
    count: int                                   # test images used
    examples: list[np.ndarray] = field(default_factory=list)     # per ε: uint8 (k, H, W, C)
    example_predictions: list[list[int]] = field(default_factory=list)
    example_labels: list[int] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"method": self.method, "test_images": self.count,
                "eps": self.eps_values, "accuracy": self.accuracy}


def sample_test_split(run_dir, count: int = SAMPLE, seed: int = 0):
    """(uint8 images, labels, class names) of ``count`` test images of a run, drawn without
    replacement with a fixed seed (the same sample every time; the whole split if smaller)."""
    from cnnstudio.core.datasets import load_dataset
    from cnnstudio.core.training.rundir import RunDir

    if count < 1:
        raise StudioError(f"the test sample needs at least 1 image, got {count}")
    folder = RunDir.open(run_dir)
    dataset = load_dataset(folder.config().dataset)
    total = len(dataset.test)
    if total == 0:
        raise StudioError(f"run {folder.path.name}'s dataset has no test images")
    picked = np.sort(np.random.default_rng(seed).permutation(total)[:count])
    images, labels, _ = dataset.test.images(picked)
    return images, np.asarray(labels, np.int64), list(dataset.class_names)


def accuracy_curve(model, images, labels, eps_values=EPS_LADDER, method: str = "fgsm",
                   steps: int = PGD_STEPS, examples: int = 8, batch_size: int = 100,
                   progress: Callable[[float], None] | None = None) -> Curve:
    """Accuracy of ``model`` on ``images`` attacked at each ε (untargeted, from the true
    labels). ``progress(fraction)`` may raise to cancel."""
    images = np.asarray(images)
    labels = np.asarray(labels, np.int64)
    if len(images) == 0 or len(images) != len(labels):
        raise StudioError(f"need as many labels as images, and at least one "
                          f"(got {len(images)} images, {len(labels)} labels)")
    eps_values = [float(e) for e in eps_values]
    clean = probabilities(model, images).argmax(axis=1)
    right = np.flatnonzero(clean == labels)
    shown = (right if len(right) else np.arange(len(images)))[:examples]
    curve = Curve(eps_values, [], method, int(len(images)),
                  example_labels=[int(labels[i]) for i in shown])
    work = len(eps_values) * len(images)
    done = 0
    for eps in eps_values:
        correct, kept = 0, {}
        for start in range(0, len(images), batch_size):
            x = images[start:start + batch_size]
            y = labels[start:start + batch_size]
            adv = x if eps == 0 else run_attack(model, x, eps, y, method, steps=steps)
            predicted = probabilities(model, adv).argmax(axis=1)
            correct += int((predicted == y).sum())
            for i in shown[(shown >= start) & (shown < start + len(x))]:
                kept[int(i)] = (adv[i - start], int(predicted[i - start]))
            done += len(x)
            if progress is not None:
                progress(done / work)
        curve.accuracy.append(correct / len(images))
        curve.examples.append(np.stack([np.asarray(kept[int(i)][0], np.uint8) for i in shown]))
        curve.example_predictions.append([kept[int(i)][1] for i in shown])
    return curve


def example_grid(curve: Curve, gap: int = 2) -> np.ndarray:
    """The example rows as one uint8 image: a row per ε, top to bottom (for ``--out``)."""
    rows = curve.examples
    k, h, w, c = rows[0].shape
    grid = np.zeros((len(rows) * (h + gap) - gap, k * (w + gap) - gap, c), np.uint8)
    for r, row in enumerate(rows):
        for i, image in enumerate(row):
            grid[r * (h + gap):r * (h + gap) + h, i * (w + gap):i * (w + gap) + w] = image
    return grid
