"""Attention maps as pictures, numpy in and numpy out (the captions panel draws these).

    heat = upsample(alpha, 64)                       # an 8×8 map → 64×64, peak 1
    soft_overlay(image, alpha, opacity=0.6)          # the image under the soft map
    hard_overlay(image, cell, grid=(8, 8))           # the image, the most attended cell boxed
    cell_box(cell, grid, side)                       # that cell's pixel bounds

``scale`` enlarges the picture without smoothing (pixels stay visible); the map itself
is interpolated smoothly, as Xu et al. show theirs.
"""

from __future__ import annotations

import numpy as np

HARD_COLOUR = (255, 255, 255)


def upsample(alpha, side: int) -> np.ndarray:
    """float32 (side, side) in [0, 1]: the map resized smoothly, divided by its peak."""
    import cv2

    a = np.asarray(alpha, np.float32)
    big = cv2.resize(a, (side, side), interpolation=cv2.INTER_LINEAR)
    peak = float(big.max())
    return big / peak if peak > 0 else big


def _heat_colours(m: np.ndarray) -> np.ndarray:
    """Black → red → yellow → white ('hot'), float (H, W, 3) in [0, 255]."""
    r = np.clip(3 * m, 0, 1)
    g = np.clip(3 * m - 1, 0, 1)
    b = np.clip(3 * m - 2, 0, 1)
    return np.stack([r, g, b], axis=-1) * 255.0


def _enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    image = np.asarray(image, np.uint8)
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.repeat(np.repeat(image[..., :3], scale, axis=0), scale, axis=1)


def soft_overlay(image, alpha, opacity: float = 0.6, scale: int = 1) -> np.ndarray:
    """uint8 (H·scale, W·scale, 3): opacity 0 is the image, 1 the heat map alone."""
    opacity = float(np.clip(opacity, 0.0, 1.0))
    base = _enlarge(image, scale).astype(np.float32)
    heat = _heat_colours(upsample(alpha, base.shape[0]))
    return np.clip((1 - opacity) * base + opacity * heat, 0, 255).astype(np.uint8)


def cell_box(cell, grid, side: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) inclusive pixel bounds of grid cell (row, col) in a side×side picture."""
    row, col = (int(c) for c in cell)
    gh, gw = grid
    return (col * side // gw, row * side // gh, (col + 1) * side // gw - 1,
            (row + 1) * side // gh - 1)


def hard_overlay(image, cell, grid, scale: int = 1, dim: float = 0.45) -> np.ndarray:
    """The image dimmed outside the most attended cell, that cell outlined."""
    out = _enlarge(image, scale).astype(np.float32)
    x0, y0, x1, y1 = cell_box(cell, grid, out.shape[0])
    keep = out[y0:y1 + 1, x0:x1 + 1].copy()
    out *= dim
    out[y0:y1 + 1, x0:x1 + 1] = keep
    out = out.astype(np.uint8)
    out[y0, x0:x1 + 1] = out[y1, x0:x1 + 1] = HARD_COLOUR
    out[y0:y1 + 1, x0] = out[y0:y1 + 1, x1] = HARD_COLOUR
    return out


def peak_cell(alpha) -> tuple[int, int]:
    a = np.asarray(alpha)
    row, col = np.unravel_index(int(np.argmax(a)), a.shape)
    return int(row), int(col)
