"""Where each window of the image pyramid leaves the cascade, computed in numpy.

OpenCV's ``detectMultiScale`` says only which windows survived. To show the cascade at
work — how many windows each stage throws away — this module runs the same cascade
itself, the way OpenCV 4's CPU path does (``cascadedetect.cpp``), so the windows it keeps
are the very candidates OpenCV returns with ``minNeighbors=0`` (the tests check that):

- the pyramid: window scales 1, f, f², … (``float``), kept while the window fits the image
  and is not under ``min_size``; level image = photo resized to round(size / scale),
  bilinear; windows every 2 pixels of a level (every pixel once the scale is ≥ 2);
- per window, the standard deviation σ of its inner area (the window less a 1-pixel
  border) from integral images; a window with σ ≤ 10 grey levels is refused before any
  stage ("flat");
- a feature's value is Σ weight · rectangle sum / (area · σ); a tree sends it left when the
  value is under its threshold; a stage rejects when its leaf sum is under its threshold;
- OpenCV's shortcut: right after a window that the first stage rejects, the next window
  in the row is not evaluated at all ("skipped").

So for every level: windows = skipped + flat + Σ rejected per stage + accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.detection.haar_cascades import Cascade, HaarFeature

THRESHOLD_EPS = 1e-5      # OpenCV lowers every stage threshold by this when it loads one
MAX_LEVEL_PIXELS = 4096 * 4096
MAX_WINDOWS = 4_000_000     # ~40 bytes each while counting: a few hundred MB at most


@dataclass(frozen=True)
class Level:
    scale: float                 # window size / base window size
    size: tuple[int, int]        # (w, h) of this level's image
    step: int                    # window stride in the level's pixels

    def window(self, base: tuple[int, int]) -> tuple[int, int]:
        return (_round(base[0] * self.scale), _round(base[1] * self.scale))


@dataclass
class LevelCounts:
    level: Level
    windows: int                 # positions on the level's grid
    skipped: int                 # not evaluated: right neighbour of a first-stage rejection
    flat: int                    # refused before stage 1: σ ≤ 10 grey levels
    rejected: np.ndarray         # (stages,) windows each stage rejected
    accepted: np.ndarray         # (k, 4) int boxes [x, y, w, h] in the photo's pixels

    def check(self) -> bool:
        return self.windows == self.skipped + self.flat + int(self.rejected.sum()) + \
            len(self.accepted)


def _round(value: float) -> int:
    return int(np.rint(value))            # cvRound: to nearest, ties to even


def pyramid(image_size: tuple[int, int], window: tuple[int, int], scale_factor: float,
            min_size: int = 0, max_size: int = 0) -> list[Level]:
    """The levels ``detectMultiScale`` searches for an image of ``(w, h)`` pixels."""
    if not 1.0 < scale_factor <= 4.0:
        raise StudioError(f"scale factor must be above 1 and at most 4, got {scale_factor}")
    w, h = image_size
    levels, factor = [], 1.0
    while True:
        win = (_round(window[0] * factor), _round(window[1] * factor))
        if win[0] > w or win[1] > h or (max_size and (win[0] > max_size or win[1] > max_size)):
            break
        if win[0] >= min_size and win[1] >= min_size:
            s = float(np.float32(factor))
            levels.append(Level(s, (_round(w / s), _round(h / s)), 1 if s >= 2 else 2))
        factor *= scale_factor
    return levels


def level_image(gray: np.ndarray, level: Level) -> np.ndarray:
    # OpenCV's own pyramid matches the bit-exact bilinear resize, pixel for pixel (checked
    # against its candidates); plain INTER_LINEAR differs in a few pixels and windows.
    return cv2.resize(gray, level.size, interpolation=cv2.INTER_LINEAR_EXACT)


class _Integrals:
    """The integral images of every level, stacked in one buffer with one row stride (as
    OpenCV does), so one index array addresses windows of all levels at once."""

    def __init__(self, levels_gray: list[np.ndarray], tilted: bool):
        self.stride = max(g.shape[1] for g in levels_gray) + 1
        rows = sum(g.shape[0] + 1 for g in levels_gray)
        # int32 like OpenCV: a photo's total may wrap, but rectangle sums (differences)
        # come out right modulo 2³², and the table stays small enough for the caches.
        s = np.zeros((rows, self.stride), np.int32)
        sq = np.zeros((rows, self.stride), np.float64)
        t = np.zeros((rows, self.stride), np.int32) if tilted else None
        self.offsets, self.levels, row = [], [], 0
        for g in levels_gray:
            a, b, c = cv2.integral3(g, sdepth=cv2.CV_32S, sqdepth=cv2.CV_64F)
            h, w = a.shape
            s[row:row + h, :w], sq[row:row + h, :w] = a, b
            if t is not None:
                t[row:row + h, :w] = c
            self.offsets.append(row * self.stride)
            self.levels.append((row, h, w))
            row += h
        self.sum2d, self.sum, self.sqsum = s, s.ravel(), sq.ravel()
        self.tilted2d = t
        self.tilted = t.ravel() if t is not None else None

    def rect(self, table, base, x, y, w, h):
        st = self.stride
        return (table[base + y * st + x] - table[base + y * st + x + w]
                - table[base + (y + h) * st + x] + table[base + (y + h) * st + x + w])

    def corners(self, f_rect, tilted: bool):
        """The four (dy, dx) integral-image taps of a rectangle, signs +, −, −, +."""
        x, y, w, h = f_rect
        if tilted:
            return ((y, x), (y + h, x - h), (y + w, x + w), (y + w + h, x + w - h))
        return ((y, x), (y, x + w), (y + h, x), (y + h, x + w))

    def feature(self, f: HaarFeature, base: np.ndarray) -> np.ndarray:
        """Σ weight · rectangle sum at the windows whose origins are ``base`` (flat)."""
        table = self.tilted if f.tilted else self.sum
        value = np.zeros(base.shape, np.float32)
        for *r, weight in f.rects:
            (a, b, c, d) = (dy * self.stride + dx for dy, dx in self.corners(r, f.tilted))
            part = table[base + a] - table[base + b] - table[base + c] + table[base + d]
            value += np.float32(weight) * part.astype(np.float32)
        return value

    def dense_feature(self, f: HaarFeature, level: int, shape, step: int) -> np.ndarray:
        """The same on a level's whole window grid, with strided slices instead of gathers."""
        row, _, _ = self.levels[level]
        table = self.tilted2d if f.tilted else self.sum2d
        ny, nx = shape
        value = np.zeros(shape, np.float32)
        for *r, weight in f.rects:
            taps = [table[row + dy:row + dy + (ny - 1) * step + 1:step,
                          dx:dx + (nx - 1) * step + 1:step] for dy, dx in self.corners(r, f.tilted)]
            part = taps[0] - taps[1] - taps[2] + taps[3]
            value += np.float32(weight) * part.astype(np.float32)
        return value


def _weak_sum(cascade: Cascade, stage: int, values, size: int) -> np.ndarray:
    """A stage's leaf sum per window; ``values(feature index)`` gives normalised feature
    values of those windows."""
    total = np.zeros(size, np.float64)
    for weak in cascade.stages[stage].weak:
        leaves = np.asarray(weak.leaves, np.float32)
        if len(weak.nodes) == 1:                       # a stump: one comparison
            left, right, fi, thr = weak.nodes[0]
            total += np.where(values(fi) < np.float32(thr), leaves[-left], leaves[-right])
            continue
        # A tree (2–3 nodes): every node's value, then walk from the root to a leaf (≤ 0).
        vals = np.stack([values(node[2]) for node in weak.nodes])
        left, right, _, thr = (np.asarray(col) for col in zip(*weak.nodes, strict=True))
        thr = thr.astype(np.float32)
        idx, done = np.zeros(size, np.int64), np.zeros(size, bool)
        cols = np.arange(size)
        for _ in weak.nodes:
            node = np.where(done, 0, idx)
            nxt = np.where(vals[node, cols] < thr[node], left[node], right[node])
            idx = np.where(done, idx, nxt)
            done |= nxt <= 0
        total += leaves[-idx]
    return total


def _stage_threshold(cascade: Cascade, stage: int) -> np.float32:
    return np.float32(np.float32(cascade.stages[stage].threshold) - np.float32(THRESHOLD_EPS))


def count_levels(gray: np.ndarray, cascade: Cascade, levels: list[Level]) -> list[LevelCounts]:
    """Run the cascade on every window of the given pyramid levels; count where each
    window leaves it."""
    W, H = cascade.window
    big = [lv for lv in levels if lv.size[0] * lv.size[1] > MAX_LEVEL_PIXELS]
    if big:
        raise StudioError(f"a pyramid level of {big[0].size[0]}×{big[0].size[1]} pixels is "
                          "too large to analyse; use a smaller image")
    levels = [lv for lv in levels if lv.size[0] + 1 > W and lv.size[1] + 1 > H]
    n_stages = len(cascade.stages)
    if not levels:
        return []
    ints = _Integrals([level_image(gray, lv) for lv in levels], cascade.tilted_features > 0)
    grids = []                                          # per level: (rows, cols) origins
    for lv, offset in zip(levels, ints.offsets, strict=True):
        ys = np.arange(0, lv.size[1] + 1 - H, lv.step)
        xs = np.arange(0, lv.size[0] + 1 - W, lv.step)
        grids.append(offset + ys[:, None] * ints.stride + xs[None, :])
    total = sum(g.size for g in grids)
    if total > MAX_WINDOWS:
        raise StudioError(f"{total:,} windows are too many to count one by one; use a "
                          "smaller photo, a larger min size or scale factor")
    base = np.concatenate([g.ravel() for g in grids])
    # σ of the inner window (1-pixel border left out, as OpenCV's normrect); flat windows
    # (σ ≤ 10, i.e. area · norm ≥ 0.1) are refused before the first stage.
    area = float((W - 2) * (H - 2))
    valsum = ints.rect(ints.sum, base, 1, 1, W - 2, H - 2).astype(np.float64)
    nf = area * ints.rect(ints.sqsum, base, 1, 1, W - 2, H - 2) - valsum * valsum
    norm = (1.0 / np.sqrt(np.where(nf > 0, nf, 1.0))).astype(np.float32)
    usable = (nf > 0) & (area * norm.astype(np.float64) < 0.1)

    def dense(fi):      # the first stage sees every window: slices, not gathers
        f = cascade.features[fi]
        return norm * np.concatenate([
            ints.dense_feature(f, i, g.shape, lv.step).ravel()
            for i, (lv, g) in enumerate(zip(levels, grids, strict=True))])

    first = _weak_sum(cascade, 0, dense, base.size) < _stage_threshold(cascade, 0)
    # OpenCV's shortcut, row by row: the window right of a first-stage rejection is skipped.
    evaluated = np.ones(base.shape, bool)
    start = 0
    for grid in grids:
        n = grid.size
        out = (usable & first)[start:start + n].reshape(grid.shape)
        ev = evaluated[start:start + n].reshape(grid.shape)
        for c in range(1, grid.shape[1]):
            ev[:, c] = ~(ev[:, c - 1] & out[:, c - 1])
        start += n
    level_of = np.repeat(np.arange(len(levels)), [g.size for g in grids])
    reached = np.full(base.shape, -1, np.int64)        # stage that rejected; n_stages: kept
    alive = np.flatnonzero(evaluated & usable)
    reached[alive[first[alive]]] = 0
    alive = alive[~first[alive]]
    for stage in range(1, n_stages):
        if not len(alive):
            break
        b, v = base[alive], norm[alive]

        def gathered(fi, b=b, v=v):     # later stages see few windows: gather them
            return ints.feature(cascade.features[fi], b) * v

        keep = _weak_sum(cascade, stage, gathered, len(alive)) >= \
            _stage_threshold(cascade, stage)
        reached[alive[~keep]] = stage
        alive = alive[keep]
    reached[alive] = n_stages
    out = []
    for i, (lv, grid) in enumerate(zip(levels, grids, strict=True)):
        mine = level_of == i
        r = reached[mine]
        rejected = np.bincount(r[r >= 0], minlength=n_stages + 1)
        ok = base[mine & (reached == n_stages)] - ints.offsets[i]
        y, x = np.divmod(ok, ints.stride)
        win = lv.window(cascade.window)
        boxes = np.stack([np.rint(x * lv.scale), np.rint(y * lv.scale),
                          np.full(len(ok), win[0]), np.full(len(ok), win[1])], axis=1)
        ev = evaluated[mine]
        out.append(LevelCounts(lv, int(grid.size), int((~ev).sum()),
                               int((ev & ~usable[mine]).sum()), rejected[:n_stages],
                               boxes.astype(int).reshape(-1, 4)))
    return out


def count_pyramid(gray: np.ndarray, cascade: Cascade, scale_factor: float = 1.1,
                  min_size: int = 0, max_size: int = 0) -> list[LevelCounts]:
    """``count_levels`` on every level ``detectMultiScale`` would search."""
    h, w = gray.shape[:2]
    return count_levels(gray, cascade,
                        pyramid((w, h), cascade.window, scale_factor, min_size, max_size))


def totals(counts: list[LevelCounts]) -> dict:
    """The pyramid's sums: windows, skipped, flat, rejected per stage, accepted."""
    stages = len(counts[0].rejected) if counts else 0
    rejected = sum((c.rejected for c in counts), np.zeros(stages, np.int64))
    return {"levels": len(counts), "windows": sum(c.windows for c in counts),
            "skipped": sum(c.skipped for c in counts), "flat": sum(c.flat for c in counts),
            "rejected": [int(r) for r in rejected],
            "accepted": sum(len(c.accepted) for c in counts)}
