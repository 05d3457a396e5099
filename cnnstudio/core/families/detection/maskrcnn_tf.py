"""Mask R-CNN's TensorFlow-only operations: RoIAlign, proposals with NMS, training targets
and the final detections. Keras 3 has no backend-neutral crop-and-resize, NMS or
per-image dynamic gathers; ``tf.image`` has them all, so the model uses TensorFlow here.

Shapes: B images, A anchors, N proposals, T sampled RoIs, G ground-truth slots (class id
0 marks an empty slot), C classes without the background. Boxes are [y1, x1, y2, x2]
in image pixels throughout; only ``roi_align`` turns them into crop coordinates.
"""

from __future__ import annotations

import tensorflow as tf

from cnnstudio.core.families.detection import box_coding


class TF:
    """The array module ``box_coding`` uses for tensors."""
    log = staticmethod(tf.math.log)
    exp = staticmethod(tf.exp)
    stack = staticmethod(tf.stack)
    maximum = staticmethod(tf.maximum)
    minimum = staticmethod(tf.minimum)


def encode(boxes, reference):
    return box_coding.encode(boxes, reference, xp=TF)


def decode(deltas, reference):
    return box_coding.decode(deltas, reference, xp=TF)


def iou(a, b):
    """(…, N, M) IoU of boxes a (…, N, 4) and b (…, M, 4) (leading axes broadcast)."""
    a, b = a[..., :, None, :], b[..., None, :, :]
    ih = tf.nn.relu(tf.minimum(a[..., 2], b[..., 2]) - tf.maximum(a[..., 0], b[..., 0]))
    iw = tf.nn.relu(tf.minimum(a[..., 3], b[..., 3]) - tf.maximum(a[..., 1], b[..., 1]))
    inter = ih * iw
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / tf.maximum(area_a + area_b - inter, 1e-6)


def clip(boxes, size):
    return tf.clip_by_value(boxes, 0.0, tf.cast(size, boxes.dtype))


# -- RoIAlign ----------------------------------------------------------------------------
def crop_boxes(boxes, stride: float, feature_size, crop: int):
    """Pixel boxes → ``crop_and_resize`` boxes on a feature map of ``feature_size`` cells.

    RoIAlign samples each of the crop×crop bins at its centre (one bilinear sample per
    bin). ``crop_and_resize`` samples from the box's first to its last coordinate, so the
    box is shrunk by half a bin on each side; a pixel coordinate p lies at feature
    coordinate p / stride − ½ (feature cell i covers pixels i·s … (i+1)·s), and
    crop_and_resize reads coordinate c of a side of n cells at c / (n − 1)."""
    h = boxes[..., 2] - boxes[..., 0]
    w = boxes[..., 3] - boxes[..., 1]
    dy, dx = 0.5 * h / crop, 0.5 * w / crop
    scale = 1.0 / tf.maximum(tf.cast(feature_size, boxes.dtype) - 1.0, 1.0)
    return tf.stack([((boxes[..., 0] + dy) / stride - 0.5) * scale,
                     ((boxes[..., 1] + dx) / stride - 0.5) * scale,
                     ((boxes[..., 2] - dy) / stride - 0.5) * scale,
                     ((boxes[..., 3] - dx) / stride - 0.5) * scale], axis=-1)


def roi_align(features, boxes, stride: float, crop: int):
    """(B, K, crop, crop, F) bilinear RoIAlign of pixel boxes (B, K, 4) on (B, h, w, F)."""
    b, k = tf.shape(boxes)[0], tf.shape(boxes)[1]
    flat = tf.reshape(crop_boxes(boxes, stride, tf.shape(features)[1], crop), (-1, 4))
    index = tf.repeat(tf.range(b), k)
    out = tf.image.crop_and_resize(features, flat, index, (crop, crop), method="bilinear")
    return tf.reshape(out, (b, k, crop, crop, features.shape[-1]))


# -- proposals ---------------------------------------------------------------------------
def top_proposals(logits, deltas, anchors, size, k: int):
    """One image: the ``k`` best-scoring anchors' refined boxes (k, 4) and objectness (k,)."""
    k = tf.minimum(k, tf.shape(logits)[0])
    scores, idx = tf.math.top_k(logits, k=k, sorted=True)
    boxes = clip(decode(tf.gather(deltas, idx), tf.gather(anchors, idx)), size)
    return boxes, tf.sigmoid(scores)


def nms_padded(boxes, scores, count: int, iou_threshold: float, min_score=float("-inf")):
    """One image: ``tf.image.non_max_suppression`` kept boxes, padded to ``count`` rows;
    returns (boxes (count, 4), scores (count,), valid (count,) bool, kept indices)."""
    keep = tf.image.non_max_suppression(boxes, scores, count, iou_threshold,
                                        score_threshold=min_score)
    n = tf.shape(keep)[0]
    pad = count - n
    kept_boxes = tf.pad(tf.gather(boxes, keep), [[0, pad], [0, 0]])
    kept_scores = tf.pad(tf.gather(scores, keep), [[0, pad]])
    valid = tf.range(count) < n
    return kept_boxes, kept_scores, valid, tf.pad(keep, [[0, pad]])


def proposals(logits, deltas, anchors, size, pre_nms: int, post_nms: int,
              iou_threshold: float = 0.7):
    """Batch: top ``pre_nms`` anchors by objectness, decoded and clipped, then NMS →
    boxes (B, post_nms, 4), objectness (B, post_nms), valid (B, post_nms)."""
    @tf.autograph.experimental.do_not_convert      # plain tensor code: skip autograph
    def one(args):
        lg, dl = args
        boxes, scores = top_proposals(lg, dl, anchors, size, pre_nms)
        kept, kept_scores, valid, _ = nms_padded(boxes, scores, post_nms, iou_threshold)
        return kept, kept_scores, valid

    return tf.map_fn(one, (logits, deltas), fn_output_signature=(
        tf.TensorSpec((post_nms, 4), tf.float32), tf.TensorSpec((post_nms,), tf.float32),
        tf.TensorSpec((post_nms,), tf.bool)))


# -- training targets --------------------------------------------------------------------
def rpn_targets(anchors, gt_boxes, gt_ids, positive: float = 0.7, negative: float = 0.3):
    """Batch (every image has at least one ground truth: the task leaves out the others):
    anchor labels (B, A) 1 positive / −1 negative / 0 ignored, and every anchor's deltas
    to its best ground truth (B, A, 4; only positives' count). Each ground-truth box's
    best anchor is positive whatever its IoU, so every object has one."""
    valid = gt_ids > 0                                                   # (B, G)
    overlaps = tf.where(valid[:, None, :], iou(anchors[None], gt_boxes), -1.0)  # (B, A, G)
    best = tf.reduce_max(overlaps, axis=2)
    best_gt = tf.argmax(overlaps, axis=2, output_type=tf.int32)
    labels = tf.where(best >= positive, 1, tf.where(best < negative, -1, 0))
    n_anchors = tf.shape(anchors)[0]
    chosen = tf.one_hot(tf.argmax(overlaps, axis=1, output_type=tf.int32), n_anchors,
                        axis=1) * tf.cast(valid, tf.float32)[:, None, :]  # (B, A, G)
    forced = tf.reduce_max(chosen, axis=2) > 0
    labels = tf.where(forced, 1, labels)
    # A forced anchor regresses to the ground truth that chose it.
    best_gt = tf.where(forced, tf.argmax(chosen, axis=2, output_type=tf.int32), best_gt)
    return labels, encode(tf.gather(gt_boxes, best_gt, batch_dims=1), anchors[None])


def _shuffle(values, seed, stream: int):
    if seed is None:
        return tf.random.shuffle(values)
    key = tf.cast(seed, tf.int64) + tf.constant([0, stream], tf.int64) * 7919
    return tf.random.experimental.stateless_shuffle(values, seed=key)


def detection_targets(props, prop_valid, gt_boxes, gt_ids, gt_masks, rois: int,
                      positives: int, mask_size: int, seed=None):
    """One image: ``rois`` RoIs sampled from the proposals plus the ground-truth boxes,
    positives (IoU ≥ 0.5 with a ground truth) first, at most ``positives`` of them, picked
    by the stateless key ``seed`` (two ints; None: TensorFlow's global generator).

    Returns rois (T, 4), valid (T,), class targets (T,) (0 background), box deltas (T, 4),
    mask targets (P, m, m) for the first P = ``positives`` RoIs and their validity (P,)."""
    valid = gt_ids > 0
    gt = tf.boolean_mask(gt_boxes, valid)
    ids = tf.boolean_mask(gt_ids, valid)
    masks = tf.boolean_mask(gt_masks, valid)
    cand = tf.concat([tf.boolean_mask(props, prop_valid), gt], axis=0)
    overlaps = iou(cand, gt)
    best = tf.reduce_max(overlaps, axis=1)
    match = tf.argmax(overlaps, axis=1, output_type=tf.int32)
    pos = _shuffle(tf.where(best >= 0.5)[:, 0], seed, 0)[:positives]
    neg = _shuffle(tf.where(best < 0.5)[:, 0], seed, 1)
    neg = neg[:rois - tf.shape(pos)[0]]
    n_pos, n_neg = tf.shape(pos)[0], tf.shape(neg)[0]
    pick = tf.concat([pos, neg], axis=0)
    boxes = tf.gather(cand, pick)
    matched = tf.gather(match, pos)
    pos_boxes = boxes[:n_pos]
    classes = tf.concat([tf.gather(ids, matched), tf.zeros((n_neg,), ids.dtype)], axis=0)
    deltas = encode(tf.gather(gt, matched), pos_boxes)
    # Mask targets: the matched ground truth's full-image mask sampled on the RoI's
    # mask_size × mask_size bin centres (pixel p's centre is at p + ½).
    size = tf.cast(tf.shape(gt_masks)[1:3], tf.float32)
    half_y = 0.5 * (pos_boxes[:, 2] - pos_boxes[:, 0]) / mask_size
    half_x = 0.5 * (pos_boxes[:, 3] - pos_boxes[:, 1]) / mask_size
    norm = tf.stack([(pos_boxes[:, 0] + half_y - 0.5) / (size[0] - 1),
                     (pos_boxes[:, 1] + half_x - 0.5) / (size[1] - 1),
                     (pos_boxes[:, 2] - half_y - 0.5) / (size[0] - 1),
                     (pos_boxes[:, 3] - half_x - 0.5) / (size[1] - 1)], axis=-1)
    crops = tf.image.crop_and_resize(tf.cast(masks, tf.float32)[..., None], norm, matched,
                                     (mask_size, mask_size))[..., 0]
    mask_targets = tf.cast(crops >= 0.5, tf.float32)
    pad = rois - n_pos - n_neg
    pad_m = positives - n_pos
    return (tf.pad(boxes, [[0, pad], [0, 0]]),
            tf.range(rois) < n_pos + n_neg,
            tf.pad(classes, [[0, pad]]),
            tf.pad(deltas, [[0, rois - n_pos], [0, 0]]),
            tf.pad(mask_targets, [[0, pad_m], [0, 0], [0, 0]]),
            tf.range(positives) < n_pos)


# -- detections --------------------------------------------------------------------------
def detections(rois, roi_valid, probs, deltas, size, count: int, min_score: float,
               iou_threshold: float = 0.3):
    """One image: each RoI's best class (not the background), its box refined by that
    class's deltas, then per-class NMS (one call: boxes of different classes are moved
    apart by a class offset so they never suppress each other), best ``count`` kept.
    Returns boxes (count, 4), class ids (count,) int32, scores (count,), valid (count,)."""
    fg = probs[:, 1:]
    class_ids = tf.argmax(fg, axis=1, output_type=tf.int32) + 1
    scores = tf.reduce_max(fg, axis=1)
    scores = tf.where(roi_valid, scores, 0.0)
    class_deltas = tf.gather(deltas, class_ids, batch_dims=1)
    boxes = clip(decode(class_deltas, rois), size)
    offset = tf.cast(class_ids, tf.float32)[:, None] * (tf.cast(size, tf.float32) * 2.0 + 1.0)
    _, kept_scores, valid, keep = nms_padded(boxes + offset, scores, count, iou_threshold,
                                             min_score)
    kept_ids = tf.where(valid, tf.gather(class_ids, keep), 0)
    kept_boxes = tf.where(valid[:, None], tf.gather(boxes, keep), 0.0)
    return kept_boxes, kept_ids, kept_scores, valid
