"""Dataset ``coco``: a user's COCO-format instance annotations as a studio dataset.

    cnnstudio train --dataset coco --dataset-option path=ann/instances.json \\
                    --dataset-option images=ann/images --dataset-option size=256 …

Options: ``path`` (the instances JSON, required), ``images`` (the image folder; default
an ``images`` folder beside the JSON, else the JSON's folder), ``size`` (every image is
letterboxed — aspect kept, grey bars — into size×size, its masks and boxes with it;
default 256), ``test_fraction`` (default 0.1, a fixed split) and ``max_images`` (0: all).

Reading is ``coco_data.read_coco``; whatever it leaves out (missing files, unknown
categories, empty masks, …) and images that fail to decode are listed in the dataset's
``skipped`` with the reason. Images without any instance left are skipped too (nothing to
learn from them). Splits are ``InstanceSplit``s: images in memory plus, per image, its
instances in the family's format.
"""

from __future__ import annotations

import cv2
import numpy as np

from cnnstudio.core.datasets.base import Dataset, DatasetSource
from cnnstudio.core.errors import DataError, ImageError
from cnnstudio.core.families.detection.coco_data import read_coco
from cnnstudio.core.options import Float, Int, Text
from cnnstudio.core.training.events import Progress

GREY = 114


def letterbox_instances(image: np.ndarray, inst: dict, size: int) -> tuple[np.ndarray, dict]:
    """Image, masks and boxes scaled to fit size×size (aspect kept) and centred on grey."""
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    h, w = image.shape[:2]
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    top, left = (size - nh) // 2, (size - nw) // 2
    out = np.full((size, size, 3), GREY, np.uint8)
    out[top:top + nh, left:left + nw] = cv2.resize(image, (nw, nh),
                                                   interpolation=cv2.INTER_AREA)
    masks = np.zeros((len(inst["masks"]), size, size), bool)
    for k, m in enumerate(inst["masks"]):
        masks[k, top:top + nh, left:left + nw] = cv2.resize(
            m.astype(np.uint8), (nw, nh), interpolation=cv2.INTER_NEAREST).astype(bool)
    sy, sx = nh / h, nw / w
    boxes = inst["boxes"] * np.float32([sy, sx, sy, sx]) + np.float32([top, left, top, left])
    return out, {"boxes": boxes.astype(np.float32), "class_ids": inst["class_ids"],
                 "masks": masks}


def _option(options, name, default, low, high, kind=int):
    value = options.get(name, default)
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)) or \
            kind is float and not isinstance(value, int | float) or not low <= value <= high:
        raise DataError(f"coco: {name} must be a number from {low} to {high}, got {value!r}")
    return value


def load_coco(options, progress=lambda event: None) -> Dataset:
    from cnnstudio.core.families.detection.instance_split import InstanceSplit, main_label

    path = options.get("path")
    if not path:
        raise DataError("coco: set the option path=… to your COCO instances JSON (and "
                        "images=… to its image folder if it is not beside it)")
    size = _option(options, "size", 256, 16, 1024)
    test_fraction = _option(options, "test_fraction", 0.1, 0.0, 0.9, float)
    max_images = _option(options, "max_images", 0, 0, 1_000_000)
    coco = read_coco(path, options.get("images"))
    skipped = [(what, why) for what, why in coco.skipped]
    items = [i for i in coco.images if i.annotations]
    skipped += [(f"image {i.image_id} '{i.path.name}'", "no instance left to learn from")
                for i in coco.images if not i.annotations]
    if max_images:
        items = items[:max_images]
    images, annotations = [], []
    for n, item in enumerate(items):
        try:
            image = item.image()
        except ImageError as exc:
            skipped.append((str(item.path), str(exc)))
            continue
        if image.shape[:2] != (item.height, item.width):
            skipped.append((str(item.path), f"the file is {image.shape[1]}×{image.shape[0]} "
                            f"but the JSON says {item.width}×{item.height}"))
            continue
        picture, inst = letterbox_instances(image, item.instances(), size)
        images.append(picture)
        annotations.append(inst)
        if n % 20 == 0:
            progress(Progress("load", n + 1, len(items), "reading COCO images"))
    if not images:
        reasons = "; ".join(f"{w}: {r}" for w, r in skipped[:3])
        raise DataError(f"coco: no usable image with instances in {coco.source.name}"
                        + (f" ({reasons})" if reasons else ""))
    x = np.stack(images)
    y = np.array([main_label(a) for a in annotations], np.int32)
    # A fixed split: every k-th image is a test image, so it never changes between runs.
    n_test = int(round(len(x) * test_fraction))
    test_idx = np.linspace(0, len(x) - 1, n_test).round().astype(int) if n_test else \
        np.zeros(0, int)
    is_test = np.zeros(len(x), bool)
    is_test[test_idx] = True
    split = InstanceSplit(x, y, annotations=annotations)
    names = coco.class_names[1:]
    return Dataset("coco", f"COCO file {coco.source.name} ({size}×{size})", names,
                   (size, size, 3), split.subset(np.flatnonzero(~is_test)),
                   split.subset(np.flatnonzero(is_test)), description=COCO_SOURCE.description,
                   skipped=skipped)


COCO_SOURCE = DatasetSource(
    "coco", "COCO-format annotations (your own JSON + images)",
    "Your own instance annotations in COCO format (pycocotools): an instances JSON with "
    "images, annotations (polygons or RLE) and categories, and its image folder. Bad "
    "annotations are skipped and named, never fatal (book chapter 7).",
    (256, 256, 3), None, load_coco,
    specs=(Text("path", None, "the COCO instances JSON file", hidden=True),
           Text("images", None, "the image folder (default: images/ beside the JSON)",
                hidden=True),
           Int("size", None, 16, 1024, "letterbox side in pixels (default 256)", unit="px"),
           Float("test_fraction", None, 0.0, 0.9, "share of images held out for testing "
                 "(default 0.1)"),
           Int("max_images", None, 0, 1_000_000, "read at most this many images (0: all)",
               step=100)))

# Registered here (as shapes_data does): the datasets package may still be initialising.

