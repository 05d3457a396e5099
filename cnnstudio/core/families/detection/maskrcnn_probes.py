"""Mask R-CNN probes, numpy in and numpy out: the pipeline step by step, and per-epoch
detections on fixed probe images (replayable from the run folder).

    p = pipeline(model, image_uint8, top_n=50)
    p["anchors"]      {"P3": (A3, 4), "P4": (A4, 4)} float32 [y1, x1, y2, x2] px
    p["proposals"]    (N, 4) the RPN's top_n refined anchors by objectness, before NMS
                      (N ≤ the model's pre-NMS pool, 300)
    p["objectness"]   (N,) their objectness (sigmoid), best first
    p["after_nms"]    (M, 4) the proposals NMS (IoU 0.7) keeps, at most top_n, best first
    p["detections"]   Instances-format dict: boxes (K, 4), class_ids (K,) 1-based,
                      scores (K,), masks (K, H, W) bool full-image, mask_28 (K, 28, 28)
                      float, class_names, image_size
    p["class_names"]  ["background", "square", …], indexed by class id

All boxes and masks are in the pixels of the image given (of any size: the model sees it
resized to its square input, and its answers are scaled back). A grey or RGBA image is
made RGB first. Detections are every one the model reports (score ≥ its ``min_score``,
0.05), best first; callers filter by score.

Layout under ``run_dir/probes`` (written by ``DetectionRecorder`` every epoch):

    detection-images.npz        images: the fixed probe images (uint8), written once
    detection.json              class names, the probe images' count and size
    detection-epoch-NNNN.npz    per image i: i_boxes, i_class_ids, i_scores, i_mask_28
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.detection.instances import paste_masks
from cnnstudio.core.probes.store import EpochStore, save_npz, write_json

PROBE_COUNT = 6


def as_rgb(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4) or min(image.shape[:2]) < 1:
        raise StudioError(f"expected an image (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
                          f"got shape {image.shape}")
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


def _scaled(boxes, sy: float, sx: float) -> np.ndarray:
    return (np.asarray(boxes, np.float32).reshape(-1, 4)
            * np.array([sy, sx, sy, sx], np.float32)).astype(np.float32)


def pipeline(model, image_uint8, top_n: int = 50) -> dict:
    """Every stage of ``model`` on one image (see the module docstring for the keys)."""
    import cv2

    image = as_rgb(image_uint8)
    top_n = max(1, int(top_n))
    h, w = image.shape[:2]
    size = int(model.image_size)
    seen = image if (h, w) == (size, size) else cv2.resize(
        image, (size, size), interpolation=cv2.INTER_AREA if min(h, w) > size
        else cv2.INTER_LINEAR)
    st = model.stages(seen[None], top_n)
    sy, sx = h / size, w / size
    valid = np.asarray(st["valid"], bool)
    boxes = _scaled(st["boxes"][valid], sy, sx)
    mask_28 = np.asarray(st["masks"][valid], np.float32)
    names = list(model.class_names)
    detections = {"boxes": boxes, "class_ids": np.asarray(st["class_ids"][valid], np.int32),
                  "scores": np.asarray(st["scores"][valid], np.float32),
                  "masks": paste_masks(mask_28, boxes, h, w), "mask_28": mask_28,
                  "class_names": names, "image_size": (h, w)}
    return {"anchors": {name: _scaled(a, sy, sx) for name, a in model.anchor_table.items()},
            "proposals": _scaled(st["proposals"], sy, sx),
            "objectness": np.asarray(st["objectness"], np.float32),
            "after_nms": _scaled(st["after_nms"], sy, sx),
            "detections": detections, "class_names": names, "image_size": (h, w)}


def detect(model, image_uint8) -> dict:
    """Just the detections (an Instances-format dict) of one image. A model with its own
    ``detect_image`` (R-CNN, Fast R-CNN: boxes only, no masks) answers itself."""
    if hasattr(model, "detect_image"):
        return model.detect_image(as_rgb(image_uint8))
    return pipeline(model, image_uint8, top_n=1)["detections"]


class DetectionStore(EpochStore):
    """The probe recordings of one run."""
    PREFIX, WHAT = "detection-", "detections"

    def write_images(self, images: np.ndarray, class_names: list[str]) -> None:
        save_npz(self.folder / "detection-images.npz", images=np.asarray(images))
        write_json(self.folder / "detection.json",
                   {"version": 1, "class_names": list(class_names), "count": len(images),
                    "image_shape": list(np.asarray(images).shape[1:])})

    def images(self) -> np.ndarray:
        with np.load(self.folder / "detection-images.npz") as data:
            return data["images"]

    def class_names(self) -> list[str]:
        return json.loads((self.folder / "detection.json").read_text())["class_names"]

    def write(self, epoch: int, detections: list[dict]) -> Path:
        arrays = {}
        for i, d in enumerate(detections):
            for key in ("boxes", "class_ids", "scores"):
                arrays[f"{i}_{key}"] = np.asarray(d[key])
            if d.get("mask_28") is not None:       # box-only models have none
                arrays[f"{i}_mask_28"] = np.asarray(d["mask_28"], np.float16)  # half the file
        return save_npz(self.path(epoch), **arrays)

    def load(self, epoch: int) -> tuple[np.ndarray, list[dict]]:
        """(probe images, one Instances-format dict per image; masks are pasted on use)."""
        path = self.existing(epoch)
        images, names = self.images(), self.class_names()
        out = []
        with np.load(path) as data:
            for i, image in enumerate(images):
                found = {"boxes": data[f"{i}_boxes"], "class_ids": data[f"{i}_class_ids"],
                         "scores": data[f"{i}_scores"], "class_names": names,
                         "image_size": tuple(image.shape[:2])}
                if f"{i}_mask_28" in data.files:
                    found["mask_28"] = data[f"{i}_mask_28"].astype(np.float32)
                out.append(found)
        return images, out


class DetectionRecorder:
    """Epoch hook ``recorder(model, epoch)``: detections on the fixed probe images →
    detection-epoch-NNNN.npz + ProbeReady("detections", payload={"images", "detections"})."""

    def __init__(self, run_dir, images: np.ndarray, sink=None):
        self.store = DetectionStore(run_dir)
        self.images, self.sink = np.asarray(images), sink
        self._written = (self.store.folder / "detection-images.npz").is_file()

    def __call__(self, model, epoch: int) -> Path:
        if not self._written:         # on resume the stored images stay
            self.store.write_images(self.images, model.class_names)
            self._written = True
        detections = [detect(model, image) for image in self.images]
        path = self.store.write(epoch, detections)
        if self.sink is not None:
            from cnnstudio.core.training.events import ProbeReady

            self.sink(ProbeReady("detections", int(epoch), str(path),
                                 payload={"images": self.images, "detections": detections}))
        return path


def probe_images(split, count: int = PROBE_COUNT) -> np.ndarray:
    """The first ``count`` images of a split: fixed for the run (the test split never
    changes for a given dataset and options)."""
    return np.asarray(split.x[:count])
