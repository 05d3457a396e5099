"""COCO's own metric (pycocotools ``COCOeval``) for boxes and masks in the family's format.

    metrics = coco_metrics(ground_truth, predictions)
    # {"box_ap", "box_ap50", "box_ap75", "mask_ap", "mask_ap50", "mask_ap75"}
    write_evaluation(run_dir / "evaluation.json", metrics)

``ground_truth[i]`` and ``predictions[i]`` describe the same image i, each a dict (or an
object with those attributes, such as ``Instances``): ``boxes`` (N, 4) [y1, x1, y2, x2]
pixels, ``class_ids`` (N,) 1-based, ``masks`` (N, H, W) bool full-image (or None, or no
such key, as box-only detectors such as R-CNN and Fast R-CNN report: then only box
metrics are computed, the mask keys are None and ``write_evaluation`` leaves them out),
and for predictions
``scores`` (N,). AP is COCO's: averaged over IoU 0.50:0.05:0.95, 101-point interpolated
precision, up to 100 detections per image; AP50 and AP75 at one IoU each. Images with
no predictions simply contribute misses; no predictions at all give 0. A value is None
when COCOeval cannot define it (no ground-truth instance at all).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np

from cnnstudio.core import atomic
from cnnstudio.core.errors import DataError

KEYS = ("box_ap", "box_ap50", "box_ap75", "mask_ap", "mask_ap50", "mask_ap75")


def _get(item, key, default=None):
    if isinstance(item, dict):
        return item.get(key, default)
    return getattr(item, key, default)


def _rle(mask: np.ndarray) -> dict:
    from pycocotools import mask as mask_utils

    return mask_utils.encode(np.asfortranarray(np.asarray(mask, np.uint8)))


def _xywh(box) -> list[float]:
    y1, x1, y2, x2 = (float(v) for v in box)
    return [x1, y1, x2 - x1, y2 - y1]


def _image_size(gt, pred) -> tuple[int, int]:
    for item in (gt, pred):
        size = _get(item, "image_size")
        if size is not None:
            return int(size[0]), int(size[1])
        masks = _get(item, "masks")
        if masks is not None and np.ndim(masks) == 3:
            return int(np.shape(masks)[1]), int(np.shape(masks)[2])
    boxes = np.asarray(_get(gt, "boxes", np.zeros((0, 4))), np.float32).reshape(-1, 4)
    if len(boxes):
        return int(np.ceil(boxes[:, 2].max())) + 1, int(np.ceil(boxes[:, 3].max())) + 1
    return 1, 1


def _records(items, sizes, with_masks: bool, scores: bool) -> list[dict]:
    out = []
    for image_id, (item, (h, w)) in enumerate(zip(items, sizes, strict=True), start=1):
        boxes = np.asarray(_get(item, "boxes", np.zeros((0, 4))), np.float32).reshape(-1, 4)
        ids = np.asarray(_get(item, "class_ids", np.zeros(0)), np.int64).reshape(-1)
        masks = _get(item, "masks")
        score = np.asarray(_get(item, "scores", np.ones(len(ids))), np.float64).reshape(-1)
        if len(ids) != len(boxes) or (scores and len(score) != len(boxes)):
            raise DataError(f"image {image_id}: {len(boxes)} boxes but {len(ids)} class ids"
                            + (f" and {len(score)} scores" if scores else ""))
        for k in range(len(boxes)):
            rec = {"image_id": image_id, "category_id": int(ids[k]), "bbox": _xywh(boxes[k]),
                   "iscrowd": 0}
            if with_masks:
                m = np.asarray(masks[k], bool)
                if m.shape != (h, w):
                    raise DataError(f"image {image_id}: a mask of {m.shape[0]}×{m.shape[1]} "
                                    f"does not match the image's {h}×{w}")
                rec["segmentation"] = _rle(m)
                rec["area"] = float(m.sum())
            else:
                rec["area"] = rec["bbox"][2] * rec["bbox"][3]
            if scores:
                rec["score"] = float(score[k])
            out.append(rec)
    return out


def _evaluate(gt_coco, detections: list[dict], iou_type: str) -> tuple:
    from pycocotools.cocoeval import COCOeval

    if not detections:
        return 0.0, 0.0, 0.0
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        dt_coco = gt_coco.loadRes(detections)
        ev = COCOeval(gt_coco, dt_coco, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return tuple(None if v < 0 else float(v) for v in ev.stats[:3])


def coco_metrics(ground_truth: list, predictions: list) -> dict:
    """COCOeval's AP, AP50 and AP75 for boxes (and masks when both sides have masks)."""
    from pycocotools.coco import COCO

    if len(ground_truth) != len(predictions):
        raise DataError(f"{len(ground_truth)} ground-truth images but {len(predictions)} "
                        "predicted ones: they must pair up")
    sizes = [_image_size(g, p) for g, p in zip(ground_truth, predictions, strict=True)]
    with_masks = all(_get(i, "masks") is not None for i in [*ground_truth, *predictions])
    gts = _records(ground_truth, sizes, with_masks, scores=False)
    for n, rec in enumerate(gts, start=1):
        rec["id"] = n
    if not gts:
        return {key: None for key in KEYS}
    dts = _records(predictions, sizes, with_masks, scores=True)
    categories = sorted({r["category_id"] for r in gts} | {r["category_id"] for r in dts})
    gt_coco = COCO()
    gt_coco.dataset = {"images": [{"id": i, "height": h, "width": w}
                                  for i, (h, w) in enumerate(sizes, start=1)],
                       "annotations": gts,
                       "categories": [{"id": c, "name": str(c)} for c in categories]}
    with contextlib.redirect_stdout(io.StringIO()):
        gt_coco.createIndex()
    box = _evaluate(gt_coco, [{k: v for k, v in d.items() if k != "segmentation"}
                              for d in dts], "bbox")
    mask = _evaluate(gt_coco, dts, "segm") if with_masks else (None, None, None)
    return dict(zip(KEYS, (*box, *mask), strict=True))


def write_evaluation(path: str | Path, metrics: dict, base: dict | None = None) -> Path:
    """Merge the metrics into ``evaluation.json``: into ``base`` where given, else into the
    keys the file holds now. One atomic write: the file is whole, old or new."""
    path = Path(path)
    data = dict(base) if base is not None else {}
    if base is None and path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            data = {}
    # A box-only model's mask figures do not exist: absent, not null.
    data.update({k: metrics.get(k) for k in KEYS
                 if k in metrics and not (k.startswith("mask") and metrics[k] is None)})
    atomic.write_json(path, data, indent=2)
    return path
