"""A dataset split with instance annotations, for detection datasets (shapes, COCO files).

It is an ``ArraySplit`` (images in memory, one label per image for the dataset panel's
counts and previews) plus, per image, its instances in the family's format:

    split.annotations[i] = {"boxes": (n, 4) float32 [y1, x1, y2, x2] px (y2/x2 exclusive),
                            "class_ids": (n,) int32, 1-based (0 is the background),
                            "masks": (n, H, W) bool full-image masks}

``y[i]`` is the 0-based class of image i's largest instance (−1 never occurs: an image
without instances gets its own label 0 and counts as such; detection data sources skip
them anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnstudio.core.datasets.base import ArraySplit


@dataclass
class InstanceSplit(ArraySplit):
    annotations: list[dict] = field(default_factory=list)

    def instances(self, index: int) -> dict:
        return self.annotations[int(index)]

    def subset(self, indices) -> InstanceSplit:
        indices = np.asarray(indices, dtype=np.int64)
        return InstanceSplit(self.x[indices], self.y[indices],
                             annotations=[self.annotations[i] for i in indices])


def main_label(annotation: dict) -> int:
    """0-based class of the largest instance (by mask area, else box area)."""
    ids = np.asarray(annotation["class_ids"])
    if len(ids) == 0:
        return 0
    masks = annotation.get("masks")
    if masks is not None:
        areas = np.asarray(masks).reshape(len(ids), -1).sum(axis=1)
    else:
        b = np.asarray(annotation["boxes"], np.float32)
        areas = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return int(ids[int(np.argmax(areas))]) - 1


def boxes_from_masks(masks: np.ndarray) -> np.ndarray:
    """Tight [y1, x1, y2, x2] boxes (exclusive ends) of bool masks (n, H, W); empty → zeros."""
    masks = np.asarray(masks, bool)
    out = np.zeros((len(masks), 4), np.float32)
    for i, m in enumerate(masks):
        rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
        if len(rows):
            out[i] = (rows[0], cols[0], rows[-1] + 1, cols[-1] + 1)
    return out
