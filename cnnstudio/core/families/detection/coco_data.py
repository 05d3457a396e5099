"""A user's own instance annotations in COCO format: one instances JSON + an image folder.

    coco = read_coco("annotations/instances.json", "images/")
    coco.class_names             # ["background", "cat", "dog"]: class id = index
    coco.skipped                 # [(what, why), …]: every annotation or image left out
    item = coco.images[0]
    item.instances()             # {"boxes": (N, 4) float32 [y1, x1, y2, x2] px,
                                 #  "class_ids": (N,) int32 1-based, "masks": (N, H, W)
                                 #  bool full-image, "class_names": [...]}
    item.image()                 # uint8 RGB (H, W, 3)

pycocotools reads polygons and RLE (compressed or not). Categories get contiguous class
ids 1..K in the order of their COCO ids (``category_ids[k]`` is class k's COCO id, for
writing predictions back). Nothing bad crashes the load: an image whose file is missing,
an annotation of an unknown image or category, a mask that covers no pixel, a malformed
segmentation — each is left out and named in ``skipped``. Crowd regions (``iscrowd``)
are not instances and are left out too. A file that is not valid COCO JSON raises one
DataError naming the file and the problem.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import DataError

BACKGROUND = "background"


@dataclass
class CocoImage:
    image_id: int
    path: Path
    height: int
    width: int
    annotations: list[dict]          # the kept COCO annotations, with "rle" and "class_id"
    class_names: list[str]

    def masks(self) -> np.ndarray:
        from pycocotools import mask as mask_utils

        if not self.annotations:
            return np.zeros((0, self.height, self.width), bool)
        return np.stack([mask_utils.decode(a["rle"]).astype(bool)
                         for a in self.annotations])

    def boxes(self) -> np.ndarray:
        """[y1, x1, y2, x2] in pixels: the annotation's bbox [x, y, w, h]."""
        out = np.zeros((len(self.annotations), 4), np.float32)
        for i, a in enumerate(self.annotations):
            x, y, w, h = a["box_xywh"]
            out[i] = (y, x, y + h, x + w)
        return out

    def class_ids(self) -> np.ndarray:
        return np.asarray([a["class_id"] for a in self.annotations], np.int32)

    def instances(self) -> dict:
        return {"boxes": self.boxes(), "class_ids": self.class_ids(), "masks": self.masks(),
                "class_names": list(self.class_names)}

    def image(self) -> np.ndarray:
        from cnnstudio.core.imaging import read_image

        return read_image(self.path)


@dataclass
class CocoAnnotations:
    source: Path
    images: list[CocoImage]
    class_names: list[str]                       # index = class id; 0 is the background
    category_ids: list[int]                      # index = class id → COCO category id
    skipped: list[tuple[str, str]] = field(default_factory=list)

def _load_json(path: Path) -> dict:
    if not path.is_file():
        raise DataError(f"COCO annotations not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path.name} is not valid JSON (line {exc.lineno}, column "
                        f"{exc.colno}: {exc.msg}); a COCO instances file is expected") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path.name}: {exc}") from None
    if not isinstance(data, dict):
        raise DataError(f"{path.name} is not a COCO instances file: the top level is a "
                        f"{type(data).__name__}, not an object with images, annotations "
                        "and categories")
    missing = [k for k in ("images", "annotations", "categories")
               if not isinstance(data.get(k), list)]
    if missing:
        raise DataError(f"{path.name} is not a COCO instances file: no list "
                        f"'{missing[0]}' (it needs images, annotations and categories)")
    return data


def _categories(data: dict, skipped) -> dict[int, tuple[int, str]]:
    """COCO category id → (class id, name), class ids 1..K in COCO id order."""
    good = {}
    for c in data["categories"]:
        if not isinstance(c, dict) or not isinstance(c.get("id"), int) \
                or not isinstance(c.get("name"), str) or not c["name"].strip():
            skipped.append((f"category {c!r:.60}", "needs an integer id and a name"))
        elif c["id"] in good:
            skipped.append((f"category {c['id']} '{c['name']}'", "its id is used twice"))
        else:
            good[c["id"]] = c["name"].strip()
    if not good:
        raise DataError("the COCO file has no usable categories (each needs an integer id "
                        "and a name)")
    return {cid: (k + 1, good[cid]) for k, cid in enumerate(sorted(good))}


def box_problem(box, height: int, width: int) -> str | None:
    """Why a COCO bbox [x, y, w, h] cannot be used, or None: its numbers must be finite,
    its size positive, and it must lie inside the image (a pixel of slack for rounding)."""
    if not (isinstance(box, list | tuple) and len(box) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)):
        return f"its bbox {box!r:.60} is not four numbers"
    if not all(math.isfinite(v) for v in box):
        return f"its bbox {list(box)} holds a number that is not finite"
    x, y, w, h = box
    if w <= 0 or h <= 0:
        return f"its bbox {list(box)} has no size"
    if x < -1 or y < -1 or x + w > width + 1 or y + h > height + 1:
        return f"its bbox {list(box)} lies outside the {width}×{height} image"
    return None


def _rle(ann: dict, h: int, w: int):
    """The annotation's mask as one RLE, or a reason it has none."""
    from pycocotools import mask as mask_utils

    seg = ann.get("segmentation")
    try:
        if isinstance(seg, list):
            polys = [p for p in seg if isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0]
            if not polys:
                return None, "no polygon with at least 3 points"
            return mask_utils.merge(mask_utils.frPyObjects(
                [[float(v) for v in p] for p in polys], h, w)), None
        if isinstance(seg, dict) and "counts" in seg and "size" in seg:
            if list(seg["size"]) != [h, w]:
                return None, f"its RLE size {list(seg['size'])} is not the image's [{h}, {w}]"
            if isinstance(seg["counts"], list):
                return mask_utils.frPyObjects(seg, h, w), None
            counts = seg["counts"]
            return {"size": [h, w], "counts": counts.encode() if isinstance(counts, str)
                    else counts}, None
    except (TypeError, ValueError, OverflowError) as exc:
        return None, f"malformed segmentation ({exc})"
    return None, "no segmentation (polygons or RLE)"


def read_coco(json_path: str | Path, image_dir: str | Path | None = None) -> CocoAnnotations:
    """Read a COCO instances JSON; images are looked up in ``image_dir`` (default: an
    ``images`` folder beside the JSON, else the JSON's own folder)."""
    from pycocotools import mask as mask_utils

    json_path = Path(json_path).expanduser()
    data = _load_json(json_path)
    if image_dir is None:
        image_dir = json_path.parent / "images"
        if not image_dir.is_dir():
            image_dir = json_path.parent
    image_dir = Path(image_dir).expanduser()
    if not image_dir.is_dir():
        raise DataError(f"image folder not found: {image_dir}")
    skipped: list[tuple[str, str]] = []
    cats = _categories(data, skipped)
    class_names = [BACKGROUND] + [cats[c][1] for c in sorted(cats)]
    images: dict[int, CocoImage] = {}
    for im in data["images"]:
        if not isinstance(im, dict) or not isinstance(im.get("id"), int) \
                or not isinstance(im.get("file_name"), str) \
                or not all(isinstance(im.get(k), int) and im[k] > 0 for k in ("width", "height")):
            skipped.append((f"image {im!r:.60}", "needs an integer id, a file_name, and a "
                                                   "positive width and height"))
            continue
        path = image_dir / im["file_name"]
        if not path.is_file():
            skipped.append((f"image {im['id']} '{im['file_name']}'",
                            f"file not found in {image_dir}"))
            continue
        images[im["id"]] = CocoImage(im["id"], path, im["height"], im["width"], [],
                                     class_names)
    known_ids = {im.get("id") for im in data["images"] if isinstance(im, dict)}
    for n, ann in enumerate(data["annotations"]):
        what = f"annotation {ann.get('id', n) if isinstance(ann, dict) else n}"
        if not isinstance(ann, dict):
            skipped.append((what, "not an object"))
            continue
        image = images.get(ann.get("image_id"))
        if image is None:
            reason = ("its image was left out" if ann.get("image_id") in known_ids
                      else f"unknown image id {ann.get('image_id')!r}")
            skipped.append((what, reason))
            continue
        what = f"{what} of {Path(image.path).name}"      # which file, for the skipped list
        if ann.get("category_id") not in cats:
            skipped.append((what, f"unknown category {ann.get('category_id')!r}"))
            continue
        if ann.get("iscrowd"):
            skipped.append((what, "a crowd region (iscrowd), not one instance"))
            continue
        rle, reason = _rle(ann, image.height, image.width)
        if rle is None:
            skipped.append((what, reason))
            continue
        try:
            area = float(mask_utils.area(rle))
            tight = [float(v) for v in mask_utils.toBbox(rle)]
        except (TypeError, ValueError) as exc:
            skipped.append((what, f"malformed segmentation ({exc})"))
            continue
        if area <= 0:
            skipped.append((what, "its mask is empty (covers no pixel)"))
            continue
        box = ann.get("bbox")
        if box is None:
            box = tight         # no bbox: the mask's own
        elif (reason := box_problem(box, image.height, image.width)) is not None:
            skipped.append((what, reason))      # bad numbers train to garbage: say so
            continue
        image.annotations.append({"id": ann.get("id", n), "class_id": cats[ann["category_id"]][0],
                                  "rle": rle, "box_xywh": [float(v) for v in box],
                                  "area": area})
    return CocoAnnotations(json_path, list(images.values()), class_names,
                           [0] + sorted(cats), skipped)
