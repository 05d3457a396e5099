"""Tile many small images into one mosaic, so a panel draws one image instead of hundreds.

Gaps between tiles are NaN: the panel paints them as background, which keeps the
tiles' own value range untouched by the padding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class Mosaic:
    image: np.ndarray        # (H, W) or (H, W, 3) float32, NaN in the gaps
    rows: int
    cols: int
    tile_shape: tuple[int, int]
    gap: int

    def tile_origin(self, index: int) -> tuple[int, int]:
        """(x, y) of the tile's top-left pixel, for labels and hit tests."""
        r, c = divmod(index, self.cols)
        th, tw = self.tile_shape
        return c * (tw + self.gap), r * (th + self.gap)

    def tile_at(self, x: float, y: float) -> int | None:
        th, tw = self.tile_shape
        c, r = int(x // (tw + self.gap)), int(y // (th + self.gap))
        if not (0 <= c < self.cols and 0 <= r < self.rows):
            return None
        return r * self.cols + c


def grid_shape(n: int, aspect: float = 1.0) -> tuple[int, int]:
    """Rows and columns for n tiles, close to ``aspect`` (columns / rows)."""
    if n <= 0:
        return 0, 0
    cols = max(1, math.ceil(math.sqrt(n * aspect)))
    return math.ceil(n / cols), cols


def tile(images: np.ndarray, cols: int | None = None, gap: int | None = None) -> Mosaic:
    """(N, h, w) or (N, h, w, 3) → one mosaic with NaN gaps of ``gap`` pixels."""
    images = np.asarray(images, dtype=np.float32)
    n, th, tw = images.shape[:3]
    if gap is None:    # a one-pixel gap vanishes between 28-pixel maps; scale it a little
        gap = max(1, round(min(th, tw) / 8))
    rows, cols = grid_shape(n) if cols is None else (math.ceil(n / max(cols, 1)), max(cols, 1))
    shape = (rows * th + (rows - 1) * gap, cols * tw + (cols - 1) * gap) + images.shape[3:]
    out = np.full(shape, np.nan, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = r * (th + gap), c * (tw + gap)
        out[y:y + th, x:x + tw] = images[i]
    return Mosaic(out, rows, cols, (th, tw), gap)


def normalise(tiles: np.ndarray, per_tile: bool = True, flat: float = 0.5) -> np.ndarray:
    """Scale to 0..1 per tile (each filter's own contrast) or jointly (comparable magnitudes).

    A constant tile becomes ``flat`` rather than dividing by zero.
    """
    tiles = np.asarray(tiles, dtype=np.float32)
    if tiles.size == 0:
        return tiles
    axes = tuple(range(1, tiles.ndim)) if per_tile else None
    lo = np.nanmin(tiles, axis=axes, keepdims=True)
    hi = np.nanmax(tiles, axis=axes, keepdims=True)
    span = hi - lo
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (tiles - lo) / safe, flat).astype(np.float32)
