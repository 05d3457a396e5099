"""Box arithmetic shared by the numpy side (targets, tests) and the TensorFlow side.

Boxes are ``[y1, x1, y2, x2]`` in pixels. A box is coded relative to a reference box
(anchor or RoI) as Faster R-CNN does — centre shift in units of the reference's size,
log of the size ratio — divided by ``STD`` so the four numbers have similar spread:

    deltas = encode(boxes, anchors)          # (…, 4)
    decode(deltas, anchors) ≈ boxes          # the round trip is exact up to float error

``xp`` is the array module: numpy (default) or ``maskrcnn_tf.TF`` for tensors.
"""

from __future__ import annotations

import numpy as np

STD = (0.1, 0.1, 0.2, 0.2)       # matterport's RPN_BBOX_STD_DEV / BBOX_STD_DEV
MAX_LOG = float(np.log(1000.0 / 16))   # clamp on decoded log-sizes (Detectron's)


def _split(boxes):
    h = boxes[..., 2] - boxes[..., 0]
    w = boxes[..., 3] - boxes[..., 1]
    return boxes[..., 0] + 0.5 * h, boxes[..., 1] + 0.5 * w, h, w


def encode(boxes, reference, xp=np):
    cy, cx, h, w = _split(boxes)
    rcy, rcx, rh, rw = _split(reference)
    rh, rw = xp.maximum(rh, 1e-3), xp.maximum(rw, 1e-3)
    h, w = xp.maximum(h, 1e-3), xp.maximum(w, 1e-3)
    return xp.stack([(cy - rcy) / rh / STD[0], (cx - rcx) / rw / STD[1],
                     xp.log(h / rh) / STD[2], xp.log(w / rw) / STD[3]], axis=-1)


def decode(deltas, reference, xp=np):
    rcy, rcx, rh, rw = _split(reference)
    cy = deltas[..., 0] * STD[0] * rh + rcy
    cx = deltas[..., 1] * STD[1] * rw + rcx
    h = xp.exp(xp.minimum(deltas[..., 2] * STD[2], MAX_LOG)) * rh
    w = xp.exp(xp.minimum(deltas[..., 3] * STD[3], MAX_LOG)) * rw
    return xp.stack([cy - 0.5 * h, cx - 0.5 * w, cy + 0.5 * h, cx + 0.5 * w], axis=-1)


