"""The detection family's common instance format, shared by every detector of the studio.

One image's detections, whatever produced them (Haar cascades, the studio's compact
Mask R-CNN, the pretrained COCO Mask R-CNN):

- ``boxes``: (N, 4) float32, ``[y1, x1, y2, x2]`` in pixels of the image (y2/x2 exclusive
  edges: a box covering pixel rows 2..5 is ``y1=2, y2=6``);
- ``class_ids``: (N,) int32, 1-based; 0 is the background and never a detection;
- ``scores``: (N,) float32 in [0, 1] (a Haar detection without a score uses 1.0);
- ``masks``: (N, H, W) bool full-image masks, or None for box-only detectors;
- ``box_masks``: (N, m, m) float32 box-relative soft masks as the mask head gives them
  (28×28 for the studio's model, 33×33 for the zoo's), or None;
- ``class_names``: list indexed by class id (``class_names[0] == "background"``; gaps in
  an id map such as COCO's 90 ids hold ``""``);
- ``image_size``: (H, W).

As a plain dict (``to_dict``/``from_dict``) the keys are the field names; ``mask_28`` is
accepted for ``box_masks``.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field

import cv2
import numpy as np

from cnnstudio.core.errors import DataError

BACKGROUND = "background"

# Fixed colours for the first classes (distinct at a glance); later ids get golden-ratio hues,
# so a class keeps its colour across images, epochs and detectors.
_PALETTE = [
    (230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
    (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128),
    (220, 190, 255), (170, 110, 40), (255, 225, 25), (128, 0, 0), (170, 255, 195),
    (128, 128, 0), (255, 215, 180), (0, 0, 128), (128, 128, 128),
]


def class_color(class_id: int) -> tuple[int, int, int]:
    """The fixed RGB colour of a class id (1-based; 0, the background, is grey)."""
    class_id = int(class_id)
    if class_id <= 0:
        return (128, 128, 128)
    if class_id <= len(_PALETTE):
        return _PALETTE[class_id - 1]
    hue = (class_id * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 0.95)
    return (int(r * 255), int(g * 255), int(b * 255))


@dataclass
class Instances:
    boxes: np.ndarray
    class_ids: np.ndarray
    scores: np.ndarray
    class_names: list[str]
    image_size: tuple[int, int]
    masks: np.ndarray | None = None
    box_masks: np.ndarray | None = None
    extra: dict = field(default_factory=dict)  # detector-specific (e.g. timings), kept as-is

    def __post_init__(self):
        self.boxes = np.asarray(self.boxes, np.float32).reshape(-1, 4)
        n = len(self.boxes)
        self.class_ids = np.asarray(self.class_ids, np.int32).reshape(-1)
        self.scores = np.asarray(self.scores, np.float32).reshape(-1)
        self.class_names = [str(c) for c in self.class_names]
        self.image_size = (int(self.image_size[0]), int(self.image_size[1]))
        if len(self.class_ids) != n or len(self.scores) != n:
            raise DataError(f"Detections disagree: {n} boxes, {len(self.class_ids)} class ids, "
                            f"{len(self.scores)} scores.")
        if n and (self.class_ids.min() < 1 or self.class_ids.max() >= len(self.class_names)):
            raise DataError(f"Class ids must lie in 1..{len(self.class_names) - 1} "
                            f"(0 is the background); got {sorted(set(self.class_ids.tolist()))}.")
        if self.masks is not None:
            self.masks = np.asarray(self.masks).astype(bool)
            if self.masks.shape != (n, *self.image_size):
                raise DataError(f"Masks have shape {self.masks.shape}; expected "
                                f"{(n, *self.image_size)} (one full-image mask per box).")
        if self.box_masks is not None:
            self.box_masks = np.asarray(self.box_masks, np.float32)
            if self.box_masks.ndim != 3 or len(self.box_masks) != n:
                raise DataError(f"Box masks have shape {self.box_masks.shape}; expected "
                                f"({n}, m, m).")

    def __len__(self) -> int:
        return len(self.boxes)

    @property
    def labels(self) -> list[str]:
        return [self.class_names[c] for c in self.class_ids]

    def select(self, index) -> Instances:
        """The instances picked by a boolean mask or an index array, in that order."""
        index = np.asarray(index)
        if index.dtype != bool:
            index = index.astype(np.int64).reshape(-1)
        return Instances(self.boxes[index], self.class_ids[index], self.scores[index],
                         list(self.class_names), self.image_size,
                         None if self.masks is None else self.masks[index],
                         None if self.box_masks is None else self.box_masks[index],
                         dict(self.extra))

    def above(self, min_score: float) -> Instances:
        """Only the instances scoring at least ``min_score``."""
        return self.select(self.scores >= float(min_score))

    def to_dict(self) -> dict:
        return {"boxes": self.boxes, "class_ids": self.class_ids, "scores": self.scores,
                "masks": self.masks, "box_masks": self.box_masks,
                "class_names": list(self.class_names), "image_size": self.image_size,
                "extra": dict(self.extra)}

    @classmethod
    def from_dict(cls, d: dict, image_size: tuple[int, int] | None = None) -> Instances:
        """Instances from a dict in this format (``mask_28`` accepted for ``box_masks``).

        Without ``masks`` but with box masks and an image size, the masks are pasted."""
        box_masks = d.get("box_masks")
        if box_masks is None:
            box_masks = d.get("mask_28")
        size = d.get("image_size") or image_size
        if size is None and d.get("masks") is not None:
            size = np.asarray(d["masks"]).shape[1:3]
        if size is None:
            raise DataError("Detections need the image size (image_size) to be shown.")
        masks = d.get("masks")
        if masks is None and box_masks is not None and len(box_masks):
            masks = paste_masks(box_masks, d["boxes"], size[0], size[1])
        elif masks is None and box_masks is not None:
            masks = np.zeros((0, *size), bool)
        return cls(d["boxes"], d["class_ids"], d["scores"], list(d["class_names"]), size,
                   masks, box_masks, dict(d.get("extra") or {}))

    def records(self) -> list[dict]:
        """JSON-ready detections: ``{"box": [x, y, w, h], "label", "score"}`` (pixels)."""
        out = []
        for (y1, x1, y2, x2), name, score in zip(self.boxes.tolist(), self.labels,
                                                 self.scores.tolist(), strict=True):
            out.append({"box": [round(x1, 1), round(y1, 1), round(x2 - x1, 1), round(y2 - y1, 1)],
                        "label": name, "score": round(score, 4)})
        return out


def empty(class_names: list[str], image_size: tuple[int, int]) -> Instances:
    return Instances(np.zeros((0, 4), np.float32), np.zeros(0, np.int32),
                     np.zeros(0, np.float32), class_names, image_size)


def _box_pixels(box, height: int, width: int) -> tuple[int, int, int, int]:
    y1, x1, y2, x2 = (int(round(float(v))) for v in box)
    return y1, x1, max(y2, y1 + 1), max(x2, x1 + 1)


def paste_masks(box_masks, boxes, height: int, width: int,
                threshold: float = 0.5) -> np.ndarray:
    """Full-image bool masks (N, H, W) from box-relative soft masks (N, m, m).

    Each mask is resized (bilinear, cv2) to its box rounded to whole pixels and
    thresholded; the parts of a box outside the image are cut off."""
    box_masks = np.asarray(box_masks, np.float32)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    if box_masks.ndim != 3 or len(box_masks) != len(boxes):
        raise DataError(f"Cannot paste {box_masks.shape} masks into {len(boxes)} boxes.")
    out = np.zeros((len(boxes), int(height), int(width)), bool)
    for i, (mask, box) in enumerate(zip(box_masks, boxes, strict=True)):
        y1, x1, y2, x2 = _box_pixels(box, height, width)
        resized = cv2.resize(mask, (x2 - x1, y2 - y1), interpolation=cv2.INTER_LINEAR)
        cy1, cx1, cy2, cx2 = max(y1, 0), max(x1, 0), min(y2, height), min(x2, width)
        if cy2 <= cy1 or cx2 <= cx1:
            continue
        out[i, cy1:cy2, cx1:cx2] = resized[cy1 - y1:cy2 - y1, cx1 - x1:cx2 - x1] >= threshold
    return out


def overlay(image_rgb: np.ndarray, instances: Instances, opacity: float = 0.5,
            boxes: bool = True) -> np.ndarray:
    """The image with each instance's mask blended in its class colour (and its box drawn);
    later instances paint over earlier ones. uint8 RGB in, uint8 RGB out."""
    out = np.asarray(image_rgb, np.float32).copy()
    if out.ndim == 2:
        out = out[..., None]
    if out.shape[2] != 3:                  # grey (H, W, 1) → RGB; alpha dropped
        out = np.repeat(out[..., :1], 3, axis=2) if out.shape[2] == 1 else out[..., :3]
    for i, cid in enumerate(instances.class_ids):
        colour = np.asarray(class_color(cid), np.float32)
        if instances.masks is not None:
            m = instances.masks[i]
            out[m] = out[m] * (1 - opacity) + colour * opacity
    out = np.clip(out, 0, 255).astype(np.uint8)
    if boxes:
        for (y1, x1, y2, x2), cid in zip(instances.boxes, instances.class_ids, strict=True):
            cv2.rectangle(out, (int(round(x1)), int(round(y1))),
                          (int(round(x2)) - 1, int(round(y2)) - 1), class_color(cid), 1)
    return out
