"""Anchors: the fixed boxes the region proposal network scores and refines (Faster R-CNN).

At every cell of a feature level with stride ``s`` (cell centre ``((i + ½)·s, (j + ½)·s)``
in image pixels) sit ``len(sizes) × len(ratios)`` boxes: for size ``a`` and ratio ``r``
(width / height, as in matterport's Mask R-CNN) the box is ``a·√r`` wide and ``a/√r``
high, so every anchor of one size covers the same area ``a²``.

    levels = anchor_levels(128)          # {"P3": (1536, 4), "P4": (384, 4)}
    flat = all_anchors(128)              # P3's then P4's, the order the RPN outputs use

Order within a level: cells row by row, then sizes, then ratios — the order of the RPN
head's (B, h, w, sizes·ratios) outputs reshaped to (B, h·w·sizes·ratios).
"""

from __future__ import annotations

import numpy as np

# The shapes (40..75 px across on 128×128 images) need no anchors below 32 px or above
# ~90 px: two levels, two octave-spaced sizes each (a, a·√2), three ratios.
DEFAULT_LEVELS: tuple[tuple[str, int, tuple[float, ...]], ...] = (
    ("P3", 8, (32.0, 45.0)),
    ("P4", 16, (64.0, 90.0)),
)
DEFAULT_RATIOS: tuple[float, ...] = (0.5, 1.0, 2.0)


def level_anchors(image_size: int, stride: int, sizes, ratios) -> np.ndarray:
    """(cells·sizes·ratios, 4) float32 [y1, x1, y2, x2] anchors of one level, in pixels."""
    cells = int(np.ceil(image_size / stride))
    centres = (np.arange(cells, dtype=np.float64) + 0.5) * stride
    cy, cx = np.meshgrid(centres, centres, indexing="ij")            # row by row
    sizes = np.asarray(sizes, np.float64)[:, None]
    ratios = np.asarray(ratios, np.float64)[None, :]
    heights = (sizes / np.sqrt(ratios)).reshape(-1)                  # sizes, then ratios
    widths = (sizes * np.sqrt(ratios)).reshape(-1)
    cy, cx = cy.reshape(-1, 1), cx.reshape(-1, 1)
    boxes = np.stack([cy - heights / 2, cx - widths / 2, cy + heights / 2, cx + widths / 2],
                     axis=-1)
    return boxes.reshape(-1, 4).astype(np.float32)


def anchor_levels(image_size: int, levels=DEFAULT_LEVELS, ratios=DEFAULT_RATIOS
                  ) -> dict[str, np.ndarray]:
    return {name: level_anchors(image_size, stride, sizes, ratios)
            for name, stride, sizes in levels}


def all_anchors(image_size: int, levels=DEFAULT_LEVELS, ratios=DEFAULT_RATIOS) -> np.ndarray:
    return np.concatenate(list(anchor_levels(image_size, levels, ratios).values()), axis=0)


def anchors_per_cell(levels=DEFAULT_LEVELS, ratios=DEFAULT_RATIOS) -> int:
    counts = {len(sizes) for _, _, sizes in levels}
    if len(counts) != 1:
        raise ValueError("every level needs the same number of anchor sizes (one shared RPN "
                         "head scores them all)")
    return counts.pop() * len(ratios)
