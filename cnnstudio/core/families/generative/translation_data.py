"""Paired datasets for pix2pix (book chapter 8), generated offline: an input image and the
target it should become.

    dataset = load_dataset(DatasetConfig("edges2shapes", {"count": 500}))
    dataset.train.x        the inputs: edge maps, uint8 (N, 64, 64, 1)
    dataset.train_targets  the targets: the scenes, uint8 (N, 64, 64, 3)
    edges_of(photo, 64)    the same edge operator, for a dropped picture

``edges2shapes``: filled, shaded squares, circles and triangles (1–3, random colours, lit
from a random side) on a textured background, paired with their edges. ``edges2digits``:
mnist-5k digits (bundled) at 32 × 32, paired with their outlines. The inputs say where
the shapes are, never their colours, shading or the background's texture: what a model
must invent is what separates a GAN's sharp guess from an L1 model's blurred average.

**Edges** are white (255) on black (0): the drawing pad's pen draws the same way. A pixel
is an edge when the grey levels of its 3 × 3 neighbourhood span at least EDGE_THRESHOLD
(the morphological gradient, dilation − erosion): a step between two flat regions gives a
2-px line, one pixel on each side, like a pen stroke. The background's texture and the
shapes' shading are gentle enough (under the threshold over 3 px) to leave no edges.

The same seed always gives the same pairs; training and test pairs use separate streams,
so the test pairs never change with the training count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnstudio.core.datasets.base import ArraySplit, Dataset, DatasetSource, Shape, fixed_split
from cnnstudio.core.errors import DataError
from cnnstudio.core.imaging import fit_to_shape
from cnnstudio.core.options import Int, OptionSet

EDGE_THRESHOLD = 48         # grey levels (0..255) a 3 × 3 neighbourhood must span
SHAPES_TEST_COUNT = 100     # edges2shapes' fixed test pairs
MIN_CONTRAST = 80           # grey levels between a shape's colour and the background's
SHADING = 0.25              # a shape's brightness varies ±25 % across it (lit from one side)
KINDS = ("square", "circle", "triangle")


@dataclass
class PairedDataset(Dataset):
    """A Dataset of input images (``train``/``test``, labels 0, class "pair") with the target
    of each: what pix2pix learns to turn the input into."""
    train_targets: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1, 1), np.uint8))
    test_targets: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1, 1), np.uint8))
    target_shape: Shape = (0, 0, 0)

    def info(self) -> dict[str, Any]:
        info = super().info()
        # What a dropped picture or a sketch must become to be an input (prediction dock).
        info["paired"] = {"target_shape": list(self.target_shape),
                          "input": "edges: white (255) on black (0)",
                          "edge_threshold": EDGE_THRESHOLD}
        return info


def edges_of(image_uint8: np.ndarray, size: int | None = None) -> np.ndarray:
    """The edge map the paired datasets use: uint8 (size, size, 1), 255 on edges, 0 elsewhere.
    Any picture (grey or RGB, any size) is first fitted to size × size (its own side when
    ``size`` is None) and made grey."""
    import cv2

    image = np.asarray(image_uint8)
    if image.ndim == 2:
        image = image[:, :, None]
    height, width = image.shape[:2]
    grey = fit_to_shape(image, (size or height, size or width, 1))[:, :, 0]
    kernel = np.ones((3, 3), np.uint8)
    span = cv2.dilate(grey, kernel).astype(np.int16) - cv2.erode(grey, kernel)
    return np.where(span >= EDGE_THRESHOLD, 255, 0).astype(np.uint8)[:, :, None]


# -- edges2shapes ----------------------------------------------------------------------------
def _grey(rgb) -> float:
    return float(np.dot(rgb, (0.299, 0.587, 0.114)))


def _background(rng, size: int) -> np.ndarray:
    """A base colour, two gentle waves and fine grain: texture an edge map does not show."""
    base = rng.integers(40, 216, size=3).astype(np.float32)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    field_ = np.zeros((size, size), np.float32)
    for _ in range(2):
        fy, fx = rng.uniform(1.0, 4.0, size=2) * rng.choice([-1, 1], size=2)
        field_ += 10.0 * np.sin(2 * np.pi * (fy * yy + fx * xx) + rng.uniform(0, 2 * np.pi))
    tint = rng.uniform(0.5, 1.0, size=3).astype(np.float32)
    grain = rng.uniform(-5.0, 5.0, size=(size, size, 1)).astype(np.float32)
    return base + field_[:, :, None] * tint + grain


def _shape_mask(kind: str, cy: int, cx: int, s: int, size: int) -> np.ndarray:
    import cv2

    canvas = np.zeros((size, size), np.uint8)
    if kind == "square":
        cv2.rectangle(canvas, (cx - s, cy - s), (cx + s, cy + s), 1, -1)
    elif kind == "circle":
        cv2.circle(canvas, (cx, cy), s, 1, -1)
    else:
        points = np.array([[(cx, cy - s), (cx - s, cy + s), (cx + s, cy + s)]], np.int32)
        cv2.fillPoly(canvas, points, 1)
    return canvas.astype(bool)


def _shape_colour(rng, background_grey: float) -> np.ndarray:
    while True:
        colour = rng.integers(0, 256, size=3).astype(np.float32)
        grey = _grey(colour)
        # Contrast that survives the shading at both ends.
        if min(abs(grey * (1 - SHADING) - background_grey),
               abs(min(255.0, grey * (1 + SHADING)) - background_grey)) >= MIN_CONTRAST and \
                np.sign(grey * (1 - SHADING) - background_grey) == \
                np.sign(grey * (1 + SHADING) - background_grey):
            return colour


def draw_scene(rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """One scene, uint8 (size, size, 3): 1–3 shaded shapes on a textured background."""
    image = _background(rng, size)
    background_grey = _grey(image.reshape(-1, 3).mean(axis=0))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    margin = max(3, size // 10)
    for _ in range(int(rng.integers(1, 4))):
        kind = KINDS[int(rng.integers(0, len(KINDS)))]
        s = int(rng.integers(max(3, size // 10), max(4, size // 4) + 1))
        cy, cx = (int(v) for v in rng.integers(margin, size - margin, size=2))
        colour = _shape_colour(rng, background_grey)
        angle = rng.uniform(0, 2 * np.pi)         # where the light comes from
        light = ((xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)) / max(s, 1)
        shade = 1.0 + SHADING * np.clip(light, -1.0, 1.0)
        mask = _shape_mask(kind, cy, cx, s, size)
        image[mask] = colour * shade[mask][:, None]
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def shape_pairs(count: int, seed: int, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``count`` (edges, scene) pairs: uint8 (N, size, size, 1) and (N, size, size, 3)."""
    rng = np.random.default_rng(seed)
    scenes = np.stack([draw_scene(rng, size) for _ in range(count)]) if count else \
        np.zeros((0, size, size, 3), np.uint8)
    edges = np.stack([edges_of(s) for s in scenes]) if count else \
        np.zeros((0, size, size, 1), np.uint8)
    return edges, scenes


def _options(dataset_id: str, specs, options: dict) -> dict:
    problems = OptionSet(specs).problems(options, dataset_id)
    if problems:
        raise DataError(problems[0])
    return {s.name: options.get(s.name) if options.get(s.name) is not None else default
            for s, default in zip(specs, DEFAULTS[dataset_id], strict=True)}


def _paired(dataset_id, name, description, train, test) -> PairedDataset:
    (x, y), (tx, ty) = train, test
    return PairedDataset(
        id=dataset_id, name=name, class_names=["pair"], input_shape=tuple(x.shape[1:]),
        train=ArraySplit(x, np.zeros(len(x), np.int32)),
        test=ArraySplit(tx, np.zeros(len(tx), np.int32)),
        description=description, train_targets=y, test_targets=ty,
        target_shape=tuple(int(s) for s in y.shape[1:]))


def load_edges2shapes(options, progress=lambda event: None) -> PairedDataset:
    o = _options("edges2shapes", SHAPES_SPECS, options)
    size, seed = o["size"], o["seed"]
    # Separate, fixed streams: the test pairs never change with the training count.
    return _paired("edges2shapes", f"Edges → shapes ({size}×{size}, generated)",
                   EDGES2SHAPES.description, shape_pairs(o["count"], seed * 2 + 1, size),
                   shape_pairs(SHAPES_TEST_COUNT, seed * 2 + 2, size))


# -- edges2digits ----------------------------------------------------------------------------
def load_edges2digits(options, progress=lambda event: None) -> PairedDataset:
    from cnnstudio.core.datasets.bundled import _mnist_5k_raw

    o = _options("edges2digits", DIGITS_SPECS, options)
    size = o["size"]
    x, labels = _mnist_5k_raw()
    train, test = fixed_split(labels, test_per_class=50)   # mnist-5k's own split
    train = np.random.default_rng(o["seed"]).permutation(train)[:o["count"]]

    def pairs(indices):
        digits = np.stack([fit_to_shape(x[i], (size, size, 1)) for i in indices])
        return np.stack([edges_of(d) for d in digits]), digits

    return _paired("edges2digits", f"Outlines → MNIST digits ({size}×{size}, offline)",
                   EDGES2DIGITS.description, pairs(train), pairs(test))


SHAPES_SPECS = (
    Int("size", None, 32, 256, "image side in pixels (default 64; a multiple of 16)", step=16,
        unit="px"),
    Int("count", None, 1, 100_000, "training pairs (default 1,000; 100 fixed test pairs)",
        step=100),
    Int("seed", None, 0, 2 ** 31 - 1, "generator seed (default 0)"))
DIGITS_SPECS = (
    Int("size", None, 16, 128, "image side in pixels (default 32; a multiple of 8)", step=8,
        unit="px"),
    Int("count", None, 1, 4500, "training pairs, picked by seed from mnist-5k's 4,500 "
        "training digits (default all; its 500 test digits are the test pairs)", step=100),
    Int("seed", None, 0, 2 ** 31 - 1, "which training digits a smaller count picks "
        "(default 0)"))
DEFAULTS = {"edges2shapes": (64, 1000, 0), "edges2digits": (32, 4500, 0)}

EDGES2SHAPES = DatasetSource(
    "edges2shapes", "Edges → shapes (generated, paired)",
    "Filled, shaded squares, circles and triangles on a textured background (64×64×3), each "
    "paired with its edge map (white on black, 1 channel): pix2pix's edges → photo task, "
    "generated offline (book chapter 8).",
    (64, 64, 1), ["pair"], load_edges2shapes, specs=SHAPES_SPECS)
EDGES2DIGITS = DatasetSource(
    "edges2digits", "Outlines → MNIST digits (offline, paired)",
    "mnist-5k's handwritten digits at 32×32, each paired with its outline (white on black): "
    "pix2pix fills the strokes in (book chapter 8).",
    (32, 32, 1), ["pair"], load_edges2digits, specs=DIGITS_SPECS)
PAIRED_SOURCES = (EDGES2SHAPES, EDGES2DIGITS)
