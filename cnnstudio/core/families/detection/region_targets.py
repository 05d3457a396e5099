"""Training targets and final detections for region-based detectors (R-CNN, Fast R-CNN):
numpy only, so both the crop-classifying R-CNN and the RoI-pooling Fast R-CNN share them.

    ids, deltas = label_proposals(proposals, gt_boxes, gt_class_ids)   # per proposal
    picked = sample(ids, 64, fg_fraction=0.25, rng=np.random.default_rng(0))
    boxes, class_ids, scores = per_class_nms(class_boxes, softmax, iou=0.3)

Labels follow Fast R-CNN (Girshick 2015, §2.3): a proposal whose best IoU with a
ground-truth box is ≥ ``fg_iou`` takes that box's class; one whose best IoU lies in
[bg_iou[0], bg_iou[1]) is background (0); the rest are ignored (−1). The paper's lower
bound 0.1 is a heuristic hard-negative mining; R-CNN (Girshick et al. 2014) uses
``bg_iou=(0.0, 0.3)`` for its classifier. Box targets are ``box_coding.encode`` of the
matched ground truth against the proposal (zeros where the proposal is not foreground).
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.families.detection import box_coding


def iou_matrix(a, b) -> np.ndarray:
    """(N, M) IoU of boxes a (N, 4) and b (M, 4), [y1, x1, y2, x2] pixels."""
    a = np.asarray(a, np.float32).reshape(-1, 4)
    b = np.asarray(b, np.float32).reshape(-1, 4)
    ih = np.clip(np.minimum(a[:, None, 2], b[None, :, 2])
                 - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iw = np.clip(np.minimum(a[:, None, 3], b[None, :, 3])
                 - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ih * iw
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-6)


def label_proposals(proposals, gt_boxes, gt_class_ids, fg_iou: float = 0.5,
                    bg_iou: tuple[float, float] = (0.1, 0.5)) -> tuple[np.ndarray, np.ndarray]:
    """(class_ids (N,) int32: ≥1 class, 0 background, −1 ignored; box_targets (N, 4))."""
    proposals = np.asarray(proposals, np.float32).reshape(-1, 4)
    gt_boxes = np.asarray(gt_boxes, np.float32).reshape(-1, 4)
    gt_ids = np.asarray(gt_class_ids, np.int32).reshape(-1)
    n = len(proposals)
    targets = np.zeros((n, 4), np.float32)
    if len(gt_ids) != len(gt_boxes):
        raise ValueError(f"{len(gt_boxes)} ground-truth boxes but {len(gt_ids)} class ids")
    if len(gt_boxes) == 0:
        best = np.zeros(n, np.float32)
        ids = np.where(best >= bg_iou[0], 0, -1).astype(np.int32)
        return ids, targets
    overlaps = iou_matrix(proposals, gt_boxes)
    best = overlaps.max(axis=1)
    match = overlaps.argmax(axis=1)
    ids = np.full(n, -1, np.int32)
    ids[(best >= bg_iou[0]) & (best < bg_iou[1])] = 0
    fg = best >= fg_iou
    ids[fg] = gt_ids[match[fg]]
    if fg.any():
        targets[fg] = box_coding.encode(gt_boxes[match[fg]], proposals[fg])
    return ids, targets.astype(np.float32)


def sample(class_ids, count: int, fg_fraction: float = 0.25, rng=None,
           pad: bool = False) -> np.ndarray:
    """Indices of at most ``count`` labelled proposals: up to ``fg_fraction`` of them
    foreground (random), the rest background (random), foreground first. ``pad=True``
    repeats labelled ones (drawn with replacement) up to exactly ``count`` — for a
    fixed-size batch — when any exists. Ignored proposals (−1) are never picked."""
    rng = np.random.default_rng(0) if rng is None else rng
    ids = np.asarray(class_ids).reshape(-1)
    fg = np.flatnonzero(ids > 0)
    bg = np.flatnonzero(ids == 0)
    n_fg = min(len(fg), int(round(count * fg_fraction)))
    fg = rng.permutation(fg)[:n_fg]
    bg = rng.permutation(bg)[:count - n_fg]
    picked = np.concatenate([fg, bg]).astype(np.int64)
    if pad and 0 < len(picked) < count:
        pool = np.concatenate([np.flatnonzero(ids > 0), np.flatnonzero(ids == 0)])
        picked = np.concatenate([picked, rng.choice(pool, count - len(picked))])
    return picked


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy NMS: indices kept, best first."""
    order = list(np.argsort(-scores, kind="stable"))
    keep = []
    while order:
        i = order.pop(0)
        keep.append(int(i))
        if order:
            overlap = iou_matrix(boxes[i:i + 1], boxes[order])[0]
            order = [j for j, o in zip(order, overlap, strict=True) if o <= iou]
    return keep


def per_class_nms(boxes, scores, iou: float = 0.3, score_min: float = 0.5,
                  max_detections: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Detections from N scored regions: per class c (1..C), the regions whose class-c
    score is ≥ ``score_min``, NMS'd at ``iou`` among themselves (classes never suppress
    each other); all classes merged, best ``max_detections`` by score.

    ``boxes``: (N, 4) one box per region, or (N, C, 4) / (N, C+1, 4) a box per class
    (the background's, if given, is not used); ``scores``: (N, C+1) softmax, column 0
    the background. Returns boxes (K, 4) float32, class_ids (K,) int32, scores (K,)."""
    scores = np.asarray(scores, np.float32)
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError(f"scores must be (N, C+1) with C ≥ 1, got {scores.shape}")
    n, classes = scores.shape[0], scores.shape[1] - 1
    boxes = np.asarray(boxes, np.float32)
    if boxes.ndim == 2:
        boxes = np.repeat(boxes.reshape(n, 1, 4), classes, axis=1)
    elif boxes.shape[1] == classes + 1:
        boxes = boxes[:, 1:]
    if boxes.shape != (n, classes, 4):
        raise ValueError(f"boxes must be (N, 4), (N, C, 4) or (N, C+1, 4) with N={n}, "
                         f"C={classes}; got {boxes.shape}")
    out_boxes, out_ids, out_scores = [], [], []
    for c in range(classes):
        rows = np.flatnonzero(scores[:, c + 1] >= score_min)
        if not len(rows):
            continue
        keep = rows[_nms(boxes[rows, c], scores[rows, c + 1], iou)]
        out_boxes.append(boxes[keep, c])
        out_ids.append(np.full(len(keep), c + 1, np.int32))
        out_scores.append(scores[keep, c + 1])
    if not out_boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.int32), np.zeros(0, np.float32)
    b, i, s = (np.concatenate(v) for v in (out_boxes, out_ids, out_scores))
    order = np.argsort(-s, kind="stable")[:max_detections]
    return b[order].astype(np.float32), i[order].astype(np.int32), s[order].astype(np.float32)


def labelled_regions(split, indices, options: dict, bg_iou: tuple[float, float], sink=None):
    """Per training image ``i`` of ``indices``: (i, candidates, class_ids, box_targets) — its
    selective-search proposals (``options``' proposal_mode and max_proposals, cached) plus its
    ground-truth boxes, labelled by ``label_proposals`` (IoU ≥ 0.5: the class; in ``bg_iou``:
    background). Progress goes to ``sink`` every 100 images."""
    from cnnstudio.core.families.detection.selective_search import cached
    from cnnstudio.core.training.events import Progress

    for k, i in enumerate(indices):
        if sink is not None and k % 100 == 0:
            sink(Progress("proposals", k, len(indices), "selective search on the training "
                          f"images ({k} of {len(indices)})"))
        ann = split.annotations[i]
        gt = np.asarray(ann["boxes"], np.float32).reshape(-1, 4)
        boxes = np.concatenate([cached(split.x[i], options["proposal_mode"],
                                       options["max_proposals"]), gt])
        ids, targets = label_proposals(boxes, gt, ann["class_ids"], fg_iou=0.5, bg_iou=bg_iou)
        yield i, boxes, ids, targets
