"""Selective search (Uijlings, van de Sande, Gevers & Smeulders 2013): the region proposals
R-CNN and Fast R-CNN classify (book chapter 7).

    boxes = propose(image_uint8, mode="fast")       # (N, 4) float32 [y1, x1, y2, x2] px
    recall = proposal_recall(gt_boxes_list, proposals_list, iou=0.5)

How it works, as in the paper:

1. Felzenszwalb & Huttenlocher's graph segmentation gives small initial regions
   (``skimage.segmentation.felzenszwalb``, threshold k, in one colour space).
2. Hierarchical grouping: the two most similar neighbouring regions merge, again and again,
   until one region covers the image (``group_regions``). Similarity is the sum of the
   measures a strategy picks: colour (histogram intersection of 25-bin histograms per
   channel), texture (intersection of 10-bin histograms of Gaussian derivatives in 8
   orientations per channel), size (small regions merge first) and fill (regions whose
   box they would fill well merge first).
3. Every region ever formed, initial or merged, is a proposal (its bounding box). Each
   strategy ranks its regions by hierarchy level — the last merge (the whole image) is 1,
   the one before 2, … — times a random number in [0, 1] (a fixed seed per strategy, so
   a given image always gets the same boxes); the strategies' boxes are pooled, sorted by
   that value, deduplicated, and the first ``max_proposals`` kept.

"fast" runs one strategy (HSV, one k, all four measures); "quality" runs several colour
spaces, thresholds and measure sets — the paper's diversification — and takes the union.
Boxes use the family's convention: y2/x2 exclusive, like ``boxes_from_masks``.
"""

from __future__ import annotations

import heapq
from typing import NamedTuple

import numpy as np

from cnnstudio.core.errors import DataError

COLOUR_BINS, TEXTURE_BINS, ORIENTATIONS = 25, 10, 8
MEASURES = "CTSF"          # colour, texture, size, fill
# (colour space, k, measures) per strategy. k is the paper's, for images of ~500 px; the
# smallest region Felzenszwalb keeps scales with the image's area (see _initial_regions).
STRATEGIES = {
    "fast": (("hsv", 100, "CTSF"),),
    "quality": tuple((space, k, measures) for space in ("hsv", "lab", "rgb")
                     for k in (50, 150) for measures in ("CTSF", "TSF")),
}
MIN_SIDE = 4               # proposals thinner than this (px) are dropped: no object fits


class MergeStep(NamedTuple):
    """One step of the hierarchy: regions ``first`` and ``second`` became ``new``."""
    first: int
    second: int
    new: int
    similarity: float
    box: tuple[int, int, int, int]      # the new region's [y1, x1, y2, x2], y2/x2 exclusive


# -- boxes -------------------------------------------------------------------------------
def iou_matrix(a, b) -> np.ndarray:
    """(N, M) IoU of boxes a (N, 4) and b (M, 4), [y1, x1, y2, x2]."""
    a = np.asarray(a, np.float32).reshape(-1, 4)[:, None, :]
    b = np.asarray(b, np.float32).reshape(-1, 4)[None, :, :]
    ih = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    iw = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = ih * iw
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return (inter / np.maximum(area_a + area_b - inter, 1e-6)).astype(np.float32)


def proposal_recall(gt_boxes_list, proposals_list, iou: float = 0.5) -> float:
    """Fraction of all ground-truth boxes (over all images) that some proposal of their
    image overlaps by IoU ≥ ``iou``. No ground truth at all → 1.0 (nothing was missed)."""
    if len(gt_boxes_list) != len(proposals_list):
        raise DataError(f"{len(gt_boxes_list)} images of ground truth but "
                        f"{len(proposals_list)} of proposals: they must pair up")
    found = total = 0
    for gt, props in zip(gt_boxes_list, proposals_list, strict=True):
        gt = np.asarray(gt, np.float32).reshape(-1, 4)
        total += len(gt)
        if len(gt) and len(props):
            found += int((iou_matrix(gt, props).max(axis=1) >= iou).sum())
    return found / total if total else 1.0


# -- region features ---------------------------------------------------------------------
def _colour_space(image: np.ndarray, space: str) -> np.ndarray:
    import cv2

    if space == "rgb":
        return image
    if space == "hsv":           # OpenCV's uint8 hue runs 0..179: stretch it to 0..255
        hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float32)
        hsv[..., 0] *= 255.0 / 180.0
        return hsv.astype(np.uint8)
    if space == "lab":
        return cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    raise DataError(f"selective search: unknown colour space {space!r} (hsv, lab, rgb)")


def _bincount(labels: np.ndarray, bins: np.ndarray, n: int, width: int) -> np.ndarray:
    return np.bincount(labels * width + bins.ravel(), minlength=n * width).reshape(n, width)


def _histograms(labels: np.ndarray, image: np.ndarray, n: int) -> tuple:
    """Per region: L1-normalised colour (n, 75) and texture (n, 240) histograms."""
    import cv2

    flat = labels.ravel()
    colour = np.concatenate([_bincount(flat, image[..., c].astype(np.int64)
                                       * COLOUR_BINS // 256, n, COLOUR_BINS)
                             for c in range(3)], axis=1).astype(np.float32)
    texture = []
    for c in range(3):
        # Gaussian derivatives (σ = 1) in 4 directions, each sign its own orientation.
        smooth = cv2.GaussianBlur(image[..., c].astype(np.float32), (0, 0), 1.0)
        gy, gx = np.gradient(smooth)
        for angle in np.arange(4) * np.pi / 4:
            d = np.cos(angle) * gx + np.sin(angle) * gy
            for part in (np.maximum(d, 0), np.maximum(-d, 0)):
                top = float(part.max())
                bins = (np.minimum(part / top * TEXTURE_BINS, TEXTURE_BINS - 1)
                        if top > 0 else np.zeros_like(part)).astype(np.int64)
                texture.append(_bincount(flat, bins, n, TEXTURE_BINS))
    texture = np.concatenate(texture, axis=1).astype(np.float32)
    colour /= np.maximum(colour.sum(axis=1, keepdims=True), 1)
    texture /= np.maximum(texture.sum(axis=1, keepdims=True), 1)
    return colour, texture


def _neighbours(labels: np.ndarray) -> list[set]:
    n = int(labels.max()) + 1
    pairs = [np.stack([labels[:, :-1].ravel(), labels[:, 1:].ravel()], 1),
             np.stack([labels[:-1, :].ravel(), labels[1:, :].ravel()], 1)]
    pairs = np.concatenate(pairs)
    pairs = np.unique(np.sort(pairs[pairs[:, 0] != pairs[:, 1]], axis=1), axis=0)
    out: list[set] = [set() for _ in range(n)]
    for a, b in pairs.tolist():
        out[a].add(b)
        out[b].add(a)
    return out


def _boxes_of(labels: np.ndarray, n: int) -> np.ndarray:
    from scipy import ndimage

    out = np.zeros((n, 4), np.int64)
    for i, found in enumerate(ndimage.find_objects(labels + 1, max_label=n)):
        if found is not None:
            ys, xs = found
            out[i] = (ys.start, xs.start, ys.stop, xs.stop)
    return out


# -- hierarchical grouping -----------------------------------------------------------------
def group_regions(labels, image, measures: str = MEASURES) -> list[MergeStep]:
    """Merge the most similar neighbouring regions of ``labels`` (H, W) ints (any values;
    relabelled 0.. in sorted order) until one is left. ``image``: uint8 (H, W, 3) in the
    colour space the histograms should use. Region ids: the initial ones 0..n−1, then
    n, n+1, … in merge order; one MergeStep per merge (n − 1 of them for a connected map)."""
    labels = np.asarray(labels)
    image = np.asarray(image)
    if labels.ndim != 2 or image.shape[:2] != labels.shape or image.ndim != 3:
        raise DataError(f"group_regions needs labels (H, W) and an image (H, W, 3) of the "
                        f"same size, got {labels.shape} and {image.shape}")
    unknown = set(measures) - set(MEASURES)
    if unknown or not measures:
        raise DataError(f"selective search measures are letters of {MEASURES!r} (colour, "
                        f"texture, size, fill), got {measures!r}")
    _, labels = np.unique(labels, return_inverse=True)
    labels = labels.reshape(image.shape[:2]).astype(np.int64)
    n = int(labels.max()) + 1
    colour, texture = _histograms(labels, image, n)
    sizes = np.bincount(labels.ravel(), minlength=n).astype(np.float64)
    boxes = _boxes_of(labels, n)
    area = float(labels.size)
    regions = {i: (sizes[i], tuple(boxes[i].tolist()), colour[i], texture[i])
               for i in range(n)}
    neighbours = dict(enumerate(_neighbours(labels)))

    def similarity(a, b) -> float:
        sa, ba, ca, ta = regions[a]
        sb, bb, cb, tb = regions[b]
        s = 0.0
        if "C" in measures:
            s += float(np.minimum(ca, cb).sum())
        if "T" in measures:
            s += float(np.minimum(ta, tb).sum())
        if "S" in measures:
            s += 1.0 - (sa + sb) / area
        if "F" in measures:
            box = _union(ba, bb)
            s += 1.0 - ((box[2] - box[0]) * (box[3] - box[1]) - sa - sb) / area
        return s

    # A heap with lazy deletion: entries of merged-away regions are skipped when popped.
    # Ties break on the smaller ids, so the order is the same on every machine.
    heap = [(-similarity(a, b), a, b) for a in range(n) for b in neighbours[a] if a < b]
    heapq.heapify(heap)
    steps: list[MergeStep] = []
    while heap:
        negative, a, b = heapq.heappop(heap)
        if a not in regions or b not in regions:
            continue
        new = n + len(steps)
        (sa, ba, ca, ta), (sb, bb, cb, tb) = regions.pop(a), regions.pop(b)
        size = sa + sb
        regions[new] = (size, _union(ba, bb), (sa * ca + sb * cb) / size,
                        (sa * ta + sb * tb) / size)
        around = (neighbours.pop(a) | neighbours.pop(b)) - {a, b}
        neighbours[new] = around
        for other in sorted(around):
            neighbours[other] -= {a, b}
            neighbours[other].add(new)
            heapq.heappush(heap, (-similarity(other, new), other, new))
        steps.append(MergeStep(a, b, new, -negative, regions[new][1]))
    return steps


def _union(a, b) -> tuple[int, int, int, int]:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _initial_regions(image: np.ndarray, k: int) -> np.ndarray:
    from skimage.segmentation import felzenszwalb

    # The paper uses min_size = k on ~500×375 images; small images keep proportionally
    # smaller regions, or a 64×64 image's shapes would vanish into their background.
    min_size = int(max(5, min(k, k * image.shape[0] * image.shape[1] / 256 ** 2)))
    return felzenszwalb(image, scale=k, sigma=0.8, min_size=min_size)


def _strategy_boxes(image: np.ndarray, space: str, k: int, measures: str,
                    seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One strategy's boxes (every region of its hierarchy) and their rank values."""
    converted = _colour_space(image, space)
    labels = _initial_regions(converted, k)
    _, labels = np.unique(labels, return_inverse=True)
    labels = labels.reshape(image.shape[:2])
    n = int(labels.max()) + 1
    steps = group_regions(labels, converted, measures)
    boxes = np.concatenate([_boxes_of(labels, n),
                            np.array([s.box for s in steps], np.int64).reshape(-1, 4)])
    # Creation order 0..m−1; the last region created (the top of the hierarchy) is level 1.
    level = np.arange(len(boxes), 0, -1, dtype=np.float64)
    return boxes, level * np.random.default_rng(seed).random(len(boxes))


def propose(image_uint8, mode: str = "fast", max_proposals: int = 300,
            min_side: int = MIN_SIDE) -> np.ndarray:
    """Selective-search boxes (N ≤ max_proposals, 4) float32 [y1, x1, y2, x2] px of one
    RGB image, best-ranked first. The same image always gives the same boxes."""
    if mode not in STRATEGIES:
        raise DataError(f"selective search mode must be one of {sorted(STRATEGIES)}, "
                        f"got {mode!r}")
    if not isinstance(max_proposals, (int, np.integer)) or max_proposals < 1:
        raise DataError(f"max_proposals must be a positive integer, got {max_proposals!r}")
    image = np.asarray(image_uint8)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or min(image.shape[:2]) < 2:
        raise DataError(f"selective search needs an RGB image (H, W, 3), got shape "
                        f"{image.shape}")
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    image = np.ascontiguousarray(image[..., :3])
    pooled, ranks = [], []
    for seed, (space, k, measures) in enumerate(STRATEGIES[mode]):
        boxes, rank = _strategy_boxes(image, space, k, measures, seed)
        pooled.append(boxes)
        ranks.append(rank)
    boxes, rank = np.concatenate(pooled), np.concatenate(ranks)
    keep = ((boxes[:, 2] - boxes[:, 0]) >= min_side) & ((boxes[:, 3] - boxes[:, 1]) >= min_side)
    boxes, rank = boxes[keep], rank[keep]
    order = np.lexsort((*boxes.T[::-1], rank))          # by rank; ties by the box itself
    boxes = boxes[order]
    _, first = np.unique(boxes, axis=0, return_index=True)   # a box's best-ranked copy
    return boxes[np.sort(first)][:max_proposals].astype(np.float32)


_CACHE: dict = {}        # (image digest, shape, mode, count) → boxes


def cached(image: np.ndarray, mode: str, count: int, cache: bool = True) -> np.ndarray:
    """``propose``'s boxes of one uint8 image as float32 (N, 4). Deterministic, so cached by
    content: training labels each image once per process, evaluation reuses the test images'
    (``cache=False`` proposes afresh, for timing)."""
    import hashlib

    image = np.ascontiguousarray(image)
    key = (hashlib.sha1(image.tobytes()).hexdigest(), image.shape, mode, int(count))
    if cache and key in _CACHE:
        return _CACHE[key]
    boxes = np.asarray(propose(image, mode=mode, max_proposals=int(count)),
                       np.float32).reshape(-1, 4)
    if cache:
        if len(_CACHE) > 50_000:
            _CACHE.clear()
        _CACHE[key] = boxes
    return boxes
