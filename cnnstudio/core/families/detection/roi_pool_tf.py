"""RoI max pooling (Fast R-CNN, Girshick 2015, §2.1) on a TensorFlow feature map.

    pooled = roi_pool_tf(feature_map, rois, batch_index, image_size=64, output=7)
    # feature_map (B, h, w, c); rois (R, 4) [y1, x1, y2, x2] in IMAGE pixels;
    # batch_index (R,) which image each RoI is on → pooled (R, 7, 7, c)

The paper divides each RoI into output × output cells and max-pools the feature cells in
each. Here, as Detectron's "RoIPool via crop and resize" does, the RoI is first sampled
on a (2·output)² grid — one bilinear sample at the centre of each sub-cell — and every
2×2 block of samples is then max-pooled: the same max-per-cell idea with
differentiable, sub-cell accurate sampling (no rounding of the RoI to whole cells).

The feature map's stride is image_size / feature size (per axis); a pixel coordinate p
lies at feature coordinate p / stride − ½ (cell i covers pixels i·s … (i+1)·s).
"""

from __future__ import annotations

import tensorflow as tf


def crop_coordinates(rois, image_size, feature_size, samples: int):
    """Pixel RoIs (R, 4) → ``tf.image.crop_and_resize`` boxes whose ``samples`` grid
    points fall on the centres of ``samples`` equal sub-cells of each RoI."""
    rois = tf.cast(rois, tf.float32)
    ih, iw = (float(image_size), float(image_size)) if isinstance(image_size, (int, float)) \
        else (float(image_size[0]), float(image_size[1]))
    fh = tf.cast(feature_size[0], tf.float32)
    fw = tf.cast(feature_size[1], tf.float32)
    sy, sx = ih / fh, iw / fw
    dy = 0.5 * (rois[:, 2] - rois[:, 0]) / samples
    dx = 0.5 * (rois[:, 3] - rois[:, 1]) / samples
    return tf.stack([((rois[:, 0] + dy) / sy - 0.5) / tf.maximum(fh - 1.0, 1.0),
                     ((rois[:, 1] + dx) / sx - 0.5) / tf.maximum(fw - 1.0, 1.0),
                     ((rois[:, 2] - dy) / sy - 0.5) / tf.maximum(fh - 1.0, 1.0),
                     ((rois[:, 3] - dx) / sx - 0.5) / tf.maximum(fw - 1.0, 1.0)], axis=-1)


def roi_pool_tf(feature_map, rois, batch_index, image_size, output: int = 7):
    """(R, output, output, c): each RoI's 2·output × 2·output bilinear samples, max-pooled
    2×2 (see the module docstring)."""
    feature_map = tf.convert_to_tensor(feature_map)
    samples = 2 * int(output)
    size = tf.shape(feature_map)[1:3]
    boxes = crop_coordinates(rois, image_size, size, samples)
    crops = tf.image.crop_and_resize(feature_map, boxes, tf.cast(batch_index, tf.int32),
                                     (samples, samples), method="bilinear")
    return tf.nn.max_pool2d(crops, 2, 2, "VALID")
