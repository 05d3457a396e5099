"""Data augmentation (chapter 2) with Keras's own preprocessing layers, applied only in training.

The config is a plain dict, stored in ``TrainConfig.augmentation``::

    {"flip": "horizontal", "rotation": 0.05, "translation": 0.1, "zoom": 0.1,
     "contrast": 0.2, "brightness": 0.1}

Strengths are Keras's factors: rotation as a fraction of a full turn (0.05 ≈ ±18°),
translation and zoom as a fraction of the image side, contrast and brightness as a
fraction of the range. An empty dict (the default) means no augmentation.

``preview`` gives N augmented copies of one image for the studio's preview grid;
``AugmentedBatches`` feeds ``fit`` with freshly augmented batches every epoch, so
validation, test and saved models never see the random layers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

FLIPS = ("none", "horizontal", "vertical", "horizontal_and_vertical")
# name → (largest sensible strength, what it means)
STRENGTHS = {
    "rotation": (0.5, "fraction of a full turn"),
    "translation": (0.5, "fraction of the image side"),
    "zoom": (0.9, "fraction of the image side"),
    "contrast": (1.0, "fraction of the contrast"),
    "brightness": (1.0, "fraction of the 0–255 range"),
}
KEYS = ("flip", *STRENGTHS)


def augmentation_problems(aug: dict[str, Any]) -> list[str]:
    """One sentence per mistake in an augmentation dict (empty when valid)."""
    found = []
    for key, value in aug.items():
        if key == "flip":
            if value not in FLIPS:
                found.append(f"augmentation flip must be one of {', '.join(FLIPS)}, got {value!r}")
        elif key in STRENGTHS:
            top = STRENGTHS[key][0]
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or not 0 <= value <= top:
                found.append(f"augmentation {key} must be a number from 0 to {top} "
                             f"({STRENGTHS[key][1]}), got {value!r}")
        else:
            found.append(f"unknown augmentation '{key}' — known: {', '.join(KEYS)}")
    return found


def is_active(aug: dict[str, Any] | None) -> bool:
    return bool(aug) and any(
        (v not in ("none", None) if k == "flip" else bool(v)) for k, v in aug.items())


def build_layers(aug: dict[str, Any], seed: int | None = None) -> list:
    """The Random* layers for ``aug``, in a fixed order (geometry first, then intensity)."""
    from cnnstudio.core.errors import ConfigError
    from cnnstudio.core.keras_setup import keras

    problems = augmentation_problems(aug)
    if problems:
        raise ConfigError("; ".join(problems))
    L = keras().layers
    found = []
    flip = aug.get("flip", "none")
    if flip != "none":
        found.append(L.RandomFlip(flip, seed=seed))
    if aug.get("rotation"):
        found.append(L.RandomRotation(float(aug["rotation"]), fill_mode="reflect", seed=seed))
    if aug.get("translation"):
        t = float(aug["translation"])
        found.append(L.RandomTranslation(t, t, fill_mode="reflect", seed=seed))
    if aug.get("zoom"):
        found.append(L.RandomZoom(float(aug["zoom"]), fill_mode="reflect", seed=seed))
    if aug.get("contrast"):
        found.append(L.RandomContrast(float(aug["contrast"]), value_range=(0, 255), seed=seed))
    if aug.get("brightness"):
        found.append(L.RandomBrightness(float(aug["brightness"]), value_range=(0, 255), seed=seed))
    return found


def apply(layers: list, images: np.ndarray) -> np.ndarray:
    """Run uint8 (N, H, W, C) images through the layers in training mode; uint8 back."""
    if not layers:
        return images
    from cnnstudio.core.keras_setup import keras

    x = images.astype("float32")
    for layer in layers:
        x = layer(x, training=True)
    x = keras().ops.convert_to_numpy(x)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def preview(image: np.ndarray, aug: dict[str, Any], n: int = 16, seed: int = 0) -> np.ndarray:
    """``n`` random augmentations of one uint8 (H, W, C) image, as (n, H, W, C) uint8.

    The first copy is the image itself, so the grid shows what the others started from.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    batch = np.repeat(image[None].astype(np.uint8), n, axis=0)
    out = apply(build_layers(aug, seed=seed), batch)
    out[0] = image
    return out


def _augmented_batches_class():
    from cnnstudio.core.keras_setup import keras
    from cnnstudio.core.training.epoch_order import EpochOrdered

    class AugmentedBatches(EpochOrdered, keras().utils.PyDataset):
        """Training batches from arrays or another PyDataset, augmented afresh each time."""

        def __init__(self, layers, x=None, y=None, batch_size=32, seed=0, source=None):
            # One worker, so batches are augmented in index order: the random layers' seed
            # state restarts from (seed, epoch) at each epoch's first batch, and a resumed
            # run draws what the uninterrupted one drew.
            super().__init__(workers=1, use_multiprocessing=False)
            self.layers, self.source = layers, source
            self.x, self.y, self.batch_size, self.seed = x, y, batch_size, int(seed)

        def __len__(self):
            if self.source is not None:
                return len(self.source)
            return math.ceil(len(self.y) / self.batch_size)

        def draw(self, epoch: int):
            return None if self.source is not None else self.rng(epoch).permutation(len(self.y))

        def __getitem__(self, index):
            epoch, pos, order = self.locate(index)
            if pos == 0:
                draw = self.rng(epoch, 2)
                for layer in self.layers:
                    for generator in getattr(layer, "_seed_generators", ()):
                        generator.state.assign(np.array([draw.integers(1 << 31), 0],
                                                        generator.state.dtype))
            if self.source is not None:
                x, y = self.source.batch_at(epoch, pos)
            else:
                picks = order[pos * self.batch_size:(pos + 1) * self.batch_size]
                x, y = self.x[picks], self.y[picks]
            return apply(self.layers, x), y

    return AugmentedBatches


def augmented_batches(aug: dict[str, Any], seed: int, *, x=None, y=None, batch_size=32,
                      source=None):
    """A keras PyDataset of augmented training batches (from arrays or from ``source``)."""
    cls = _augmented_batches_class()
    return cls(build_layers(aug, seed=seed), x=x, y=y, batch_size=batch_size, seed=seed,
               source=source)
