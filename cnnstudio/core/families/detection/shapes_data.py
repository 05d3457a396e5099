"""Dataset ``shapes``: matterport's Mask R-CNN shapes demo, generated offline.

Each image has a random background colour and 1–4 squares, circles and equilateral
triangles of random colour, size and place (as in matterport's ``ShapesDataset``:
half-size 20..32 px, centres at least 20 px from the edges, for 128×128). Shapes are
drawn in order, so later ones occlude earlier ones; each instance's mask is exactly the
pixels that show its colour in the final image, and its box is that mask's tight box.

    image, ann = draw_image(np.random.default_rng(0), size=128)
    ann["masks"]: (n, 128, 128) bool; ann["class_ids"]: 1 square, 2 circle, 3 triangle

Two departures from matterport, both so that every instance can be seen: a shape's
colour differs clearly from the background (L1 distance ≥ MIN_CONTRAST), and a shape
hidden below MIN_VISIBLE of its own area by later ones is dropped (matterport drops
shapes whose boxes overlap by IoU > 0.3 instead, which we also do).
The same seed always gives the same images; train and test use separate streams.
"""

from __future__ import annotations

import math

import numpy as np

from cnnstudio.core.datasets.base import Dataset, DatasetSource
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.detection.instance_split import (
    InstanceSplit,
    boxes_from_masks,
    main_label,
)
from cnnstudio.core.options import Int

CLASS_NAMES = ["square", "circle", "triangle"]
MIN_CONTRAST = 90           # L1 distance (0..765) between a shape's colour and the background
MIN_VISIBLE = 0.35          # fraction of a shape's own pixels that must stay visible
OVERLAP_IOU = 0.3           # matterport: shapes whose boxes overlap more are not drawn


def _option(options, name, default, low, high) -> int:
    value = options.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DataError(f"shapes: {name} must be an integer between {low} and {high}, "
                        f"got {value!r}")
    return value


def _colour(rng, avoid=None) -> np.ndarray:
    while True:
        c = rng.integers(0, 256, size=3)
        if avoid is None or np.abs(c - avoid).sum() >= MIN_CONTRAST:
            return c.astype(np.uint8)


def shape_mask(kind: str, cy: int, cx: int, s: int, size: int) -> np.ndarray:
    """The pixels cv2 fills for one shape (matterport's drawing calls), as a bool mask."""
    import cv2

    canvas = np.zeros((size, size), np.uint8)
    if kind == "square":
        cv2.rectangle(canvas, (cx - s, cy - s), (cx + s, cy + s), 1, -1)
    elif kind == "circle":
        cv2.circle(canvas, (cx, cy), s, 1, -1)
    else:
        half = s / math.sin(math.radians(60))
        points = np.array([[(cx, cy - s), (cx - half, cy + s), (cx + half, cy + s)]],
                          dtype=np.int32)
        cv2.fillPoly(canvas, points, 1)
    return canvas.astype(bool)


def _iou(a, b) -> float:
    y1, x1 = max(a[0], b[0]), max(a[1], b[1])
    y2, x2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, y2 - y1) * max(0, x2 - x1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def draw_image(rng: np.random.Generator, size: int = 128, min_shapes: int = 1,
               max_shapes: int = 4) -> tuple[np.ndarray, dict]:
    """One RGB uint8 image and its instances (boxes, 1-based class_ids, bool masks)."""
    buffer = max(2, round(size * 20 / 128))
    s_max = max(buffer, size // 4)
    background = _colour(rng)
    image = np.empty((size, size, 3), np.uint8)
    image[:] = background
    count = int(rng.integers(min_shapes, max_shapes + 1))
    placed: list[tuple[int, np.ndarray, list[int]]] = []      # (class id, mask, box)
    for _ in range(count):
        kind = int(rng.integers(0, len(CLASS_NAMES)))
        cy, cx = (int(v) for v in rng.integers(buffer, size - buffer, size=2))
        s = int(rng.integers(buffer, s_max + 1))
        colour = _colour(rng, background)
        box = [cy - s, cx - s, cy + s, cx + s]
        if any(_iou(box, other) > OVERLAP_IOU for _, _, other in placed):
            continue
        mask = shape_mask(CLASS_NAMES[kind], cy, cx, s, size)
        image[mask] = colour
        placed.append((kind + 1, mask, box))
    # Later shapes occlude earlier ones: take each mask's pixels away from those below it.
    masks = np.stack([m for _, m, _ in placed])
    own = masks.sum(axis=(1, 2))
    covered = np.zeros((size, size), bool)
    for i in range(len(masks) - 1, -1, -1):
        masks[i] &= ~covered
        covered |= masks[i]
    keep = masks.sum(axis=(1, 2)) >= MIN_VISIBLE * np.maximum(own, 1)
    if not keep.any():                 # never an image without instances
        keep[-1] = True
    for i in np.flatnonzero(~keep):    # a dropped shape's pixels go back to the background
        image[masks[i]] = background
    masks = masks[keep]
    class_ids = np.array([c for (c, _, _), k in zip(placed, keep, strict=True) if k], np.int32)
    return image, {"boxes": boxes_from_masks(masks), "class_ids": class_ids, "masks": masks}


def generate(count: int, seed: int, size: int = 128, min_shapes: int = 1,
             max_shapes: int = 4) -> InstanceSplit:
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    for _ in range(count):
        image, ann = draw_image(rng, size, min_shapes, max_shapes)
        images.append(image)
        annotations.append(ann)
    x = np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8)
    y = np.array([main_label(a) for a in annotations], np.int32)
    return InstanceSplit(x, y, annotations=annotations)


def load_shapes(options, progress=lambda event: None) -> Dataset:
    size = _option(options, "size", 128, 32, 512)
    count = _option(options, "count", 2000, 1, 100_000)
    test_count = _option(options, "test_count", 200, 0, 100_000)
    min_shapes = _option(options, "min_shapes", 1, 1, 8)
    max_shapes = _option(options, "max_shapes", 4, 1, 8)
    seed = _option(options, "seed", 0, 0, 2 ** 31 - 1)
    if max_shapes < min_shapes:
        raise DataError(f"shapes: max_shapes ({max_shapes}) is below min_shapes ({min_shapes})")
    # Separate, fixed streams: the test images never change with the training count.
    train = generate(count, seed * 2 + 1, size, min_shapes, max_shapes)
    test = generate(test_count, seed * 2 + 2, size, min_shapes, max_shapes)
    return Dataset("shapes", f"Shapes ({size}×{size}, generated)", list(CLASS_NAMES),
                   (size, size, 3), train, test, description=SHAPES.description)


SHAPES = DatasetSource(
    "shapes", "Shapes (generated, instance masks)",
    "matterport's Mask R-CNN shapes demo, generated offline: squares, circles and triangles "
    "of random colour and size on a random background, 1–4 per image, with "
    "occlusion-correct instance masks (book chapter 7).",
    (128, 128, 3), list(CLASS_NAMES), load_shapes,
    specs=(Int("size", None, 32, 512, "image side in pixels (default 128)", unit="px"),
           Int("count", None, 1, 100_000, "training images (default 2,000)", step=100),
           Int("test_count", None, 0, 100_000, "test images (default 200)", step=50),
           Int("min_shapes", None, 1, 8, "fewest shapes per image (default 1)"),
           Int("max_shapes", None, 1, 8, "most shapes per image (default 4)"),
           Int("seed", None, 0, 2 ** 31 - 1, "generator seed (default 0)")))

# Registered here, not in the datasets package: this module may be imported first, while
# that package's __init__ (which imports this module) has not finished.

