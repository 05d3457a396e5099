"""Unpaired image domains for CycleGAN (book chapter 8), generated offline and the same for
the same seed.

    dataset = load_dataset(DatasetConfig("digits2thick", {"seed": 0}))
    dataset.train.x, dataset.train.y      A images (y 0) then B images (y 1), uint8 RGB
    dataset.domain("train", 0)            the A images alone
    dataset.train_content                 each image's digit (-1 where there is none)

``digits2thick``: A is mnist-5k digits, grey on black; B is OTHER mnist-5k digits drawn with
strokes two pixels thicker, yellow on a blue background. The digits of each class are
split into two disjoint halves (by the seed), so no digit image appears in both domains:
the model never sees a pair. ``shapes-filled2outline``: A is one filled square, circle or
triangle on a dark background; B is one outlined shape, drawn from a separate random stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnstudio.core.datasets.base import ArraySplit, Dataset, DatasetSource, fixed_split
from cnnstudio.core.errors import DataError
from cnnstudio.core.options import Int, OptionSet

DIGITS_SIZE, SHAPES_SIZE = 32, 64
SHAPES_COUNT = 1000                 # training images per domain unless `count` says
THICK_BACKGROUND = (40, 80, 170)    # B's blue background, jittered per image …
BACKGROUND_JITTER = 20              # … by up to this much per channel
THICK_STROKE = (250, 215, 70)       # B's yellow strokes


def _specs(size: int, count_help: str) -> tuple:
    return (Int("size", None, 16, 256, f"side of the square images (default {size})", step=4,
                unit="px"),
            Int("count", None, 1, 100_000, count_help),
            Int("seed", None, 0, 2**31 - 1, "random seed of the generated images (the same "
                "seed always gives the same images)"))


DIGITS_SPECS = _specs(DIGITS_SIZE, "training images per domain (default: all 2,250 of each "
                      "half of mnist-5k's training digits)")
SHAPES_SPECS = _specs(SHAPES_SIZE, f"training images per domain (default {SHAPES_COUNT}); the "
                      "test set has a fifth as many")


@dataclass
class UnpairedDataset(Dataset):
    """Two image domains that share no pair: ``train``/``test`` hold A's images (y = 0)
    then B's (y = 1); ``*_content`` say what each image shows (a digit, or -1)."""
    train_content: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    test_content: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    def domain(self, split: str, which: int) -> np.ndarray:
        """The uint8 images of domain ``which`` (0 = A, 1 = B) in ``split``."""
        data = getattr(self, split)
        return data.x[data.y == which]

    def content(self, split: str, which: int) -> np.ndarray:
        data = getattr(self, split)
        return getattr(self, f"{split}_content")[data.y == which]


def _options(owner: str, specs, options: dict[str, Any]) -> dict[str, Any]:
    found = OptionSet(specs).problems(options, owner)
    if found:
        raise DataError("; ".join(found))
    return dict(options)


def _joined(a: np.ndarray, b: np.ndarray) -> ArraySplit:
    y = np.concatenate([np.zeros(len(a), np.int32), np.ones(len(b), np.int32)])
    return ArraySplit(np.concatenate([a, b]), y)


# -- digits2thick ---------------------------------------------------------------------------------
def halves(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of two disjoint halves of ``labels``, each with half of every class, in a
    seeded random order (mnist-5k is sorted by class: a ``count`` takes every class)."""
    rng = np.random.default_rng([int(seed), 25])
    first, second = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        first.extend(idx[:len(idx) // 2])
        second.extend(idx[len(idx) // 2:])
    return rng.permutation(np.asarray(first, np.int64)), rng.permutation(np.asarray(second,
                                                                              np.int64))


def _padded(digits: np.ndarray) -> np.ndarray:
    """28×28×1 digits centred on 32×32 (N, 32, 32): the stroke width unchanged."""
    out = np.zeros((len(digits), DIGITS_SIZE, DIGITS_SIZE), np.uint8)
    out[:, 2:30, 2:30] = digits[..., 0]
    return out


def _resized(images: np.ndarray, size: int) -> np.ndarray:
    import cv2

    if images.shape[1] == size:
        return images
    interp = cv2.INTER_AREA if size < images.shape[1] else cv2.INTER_LINEAR
    return np.stack([cv2.resize(im, (size, size), interpolation=interp) for im in images])


def grey_digits(digits: np.ndarray, size: int) -> np.ndarray:
    """Domain A: the digit as it is, grey on black, in three channels."""
    return np.repeat(_resized(_padded(digits), size)[..., None], 3, axis=3)


def thick_digits(digits: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Domain B: strokes dilated by a 3×3 ellipse (two pixels thicker at 32×32), yellow on a
    blue background whose shade varies a little per image."""
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    masks = _resized(np.stack([cv2.dilate(d, kernel) for d in _padded(digits)]), size)
    alpha = masks[..., None].astype(np.float32) / 255.0
    jitter = rng.integers(-BACKGROUND_JITTER, BACKGROUND_JITTER + 1, (len(digits), 1, 1, 3))
    background = np.clip(np.asarray(THICK_BACKGROUND) + jitter, 0, 255)
    out = background * (1.0 - alpha) + np.asarray(THICK_STROKE, np.float32) * alpha
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _load_digits2thick(options, progress) -> UnpairedDataset:
    from cnnstudio.core.datasets.bundled import _mnist_5k_raw

    options = _options("digits2thick", DIGITS_SPECS, options)
    size, seed = options.get("size") or DIGITS_SIZE, options.get("seed") or 0
    count = options.get("count")
    x, y = _mnist_5k_raw()
    train, test = fixed_split(y, test_per_class=50)    # mnist-5k's own split
    splits, contents = {}, {}
    for name, idx, stream in (("train", train, 0), ("test", test, 1)):
        a, b = halves(y[idx], seed)
        a, b = idx[a], idx[b]
        if name == "train" and count:
            a, b = a[:count], b[:count]
        rng = np.random.default_rng([int(seed), 26, stream])
        splits[name] = _joined(grey_digits(x[a], size), thick_digits(x[b], size, rng))
        contents[name] = np.concatenate([y[a], y[b]]).astype(np.int32)
    return UnpairedDataset(
        id="digits2thick", name=f"Digits ↔ thick digits ({size}×{size}, unpaired)",
        class_names=["grey digits", "thick digits"], input_shape=(size, size, 3),
        train=splits["train"], test=splits["test"], description=DIGITS2THICK.description,
        train_content=contents["train"], test_content=contents["test"])


# -- shapes-filled2outline ----------------------------------------------------------------------
SHAPE_NAMES = ("square", "circle", "triangle")


def draw_shape(rng: np.random.Generator, size: int, filled: bool) -> np.ndarray:
    """One square, circle or triangle of a bright colour on a dark one, filled or outlined
    (a line of size/32 px, at least 1)."""
    import cv2

    image = np.empty((size, size, 3), np.uint8)
    image[:] = rng.integers(0, 60, 3)
    colour = tuple(int(c) for c in rng.integers(120, 256, 3))
    s = int(rng.integers(size // 6, size // 3))
    cy, cx = (int(v) for v in rng.integers(s + 2, size - s - 2, 2))
    thickness = -1 if filled else max(1, size // 32)
    kind = SHAPE_NAMES[int(rng.integers(0, 3))]
    if kind == "square":
        cv2.rectangle(image, (cx - s, cy - s), (cx + s, cy + s), colour, thickness)
    elif kind == "circle":
        cv2.circle(image, (cx, cy), s, colour, thickness)
    else:
        points = np.array([[cx, cy - s], [cx - s, cy + s], [cx + s, cy + s]], np.int32)
        if filled:
            cv2.fillPoly(image, [points], colour)
        else:
            cv2.polylines(image, [points], True, colour, thickness)
    return image


def _shapes(count: int, size: int, filled: bool, seed: int, stream: int) -> np.ndarray:
    # Separate streams for A and B, train and test: no image is drawn twice.
    rng = np.random.default_rng([int(seed), 27, stream])
    return np.stack([draw_shape(rng, size, filled) for _ in range(count)])


def _load_shapes(options, progress) -> UnpairedDataset:
    options = _options("shapes-filled2outline", SHAPES_SPECS, options)
    size, seed = options.get("size") or SHAPES_SIZE, options.get("seed") or 0
    count = options.get("count") or SHAPES_COUNT
    n_test = max(8, count // 5)
    train = _joined(_shapes(count, size, True, seed, 0), _shapes(count, size, False, seed, 1))
    test = _joined(_shapes(n_test, size, True, seed, 2), _shapes(n_test, size, False, seed, 3))
    return UnpairedDataset(
        id="shapes-filled2outline", name=f"Filled ↔ outlined shapes ({size}×{size}, unpaired)",
        class_names=["filled shapes", "outlined shapes"], input_shape=(size, size, 3),
        train=train, test=test, description=SHAPES_FILLED2OUTLINE.description,
        train_content=np.full(len(train), -1, np.int32),
        test_content=np.full(len(test), -1, np.int32))


DIGITS2THICK = DatasetSource(
    "digits2thick", "Digits ↔ thick digits (unpaired, offline)",
    "CycleGAN's unpaired domains from mnist-5k: A grey digits on black, B the other half of "
    "the digits with thick yellow strokes on blue; no digit image is in both.",
    (DIGITS_SIZE, DIGITS_SIZE, 3), ["grey digits", "thick digits"], _load_digits2thick,
    specs=DIGITS_SPECS)
SHAPES_FILLED2OUTLINE = DatasetSource(
    "shapes-filled2outline", "Filled ↔ outlined shapes (unpaired, offline)",
    "CycleGAN's unpaired domains: A a filled square, circle or triangle on a dark background, "
    "B an outlined one, drawn independently.",
    (SHAPES_SIZE, SHAPES_SIZE, 3), ["filled shapes", "outlined shapes"], _load_shapes,
    specs=SHAPES_SPECS)

UNPAIRED_SOURCES = (DIGITS2THICK, SHAPES_FILLED2OUTLINE)
