"""Mask R-CNN's five losses (TensorFlow): RPN objectness and box, head class and box, and
the mask's binary cross-entropy on the true class's channel only (Mask R-CNN's
decoupling of masks from classification: other classes' masks get no gradient)."""

from __future__ import annotations

import tensorflow as tf


def _masked_mean(values, mask):
    mask = tf.cast(mask, values.dtype)
    return tf.reduce_sum(values * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def smooth_l1(diff):
    diff = tf.abs(diff)
    return tf.where(diff < 1.0, 0.5 * diff * diff, diff - 0.5)


def rpn_class_loss(labels, logits):
    """Binary cross-entropy of objectness over labelled anchors; positives and negatives
    weigh half each (an image has ~10 positive anchors among ~1,900)."""
    bce = tf.nn.sigmoid_cross_entropy_with_logits(tf.cast(labels > 0, tf.float32), logits)
    return 0.5 * (_masked_mean(bce, labels > 0) + _masked_mean(bce, labels < 0))


def rpn_box_loss(labels, target_deltas, deltas):
    return _masked_mean(tf.reduce_sum(smooth_l1(target_deltas - deltas), axis=-1), labels > 0)


def class_loss(target_ids, valid, logits):
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(target_ids, tf.int32), logits)
    return _masked_mean(ce, valid)


def box_loss(target_ids, target_deltas, deltas):
    """Smooth L1 of the true class's deltas, positive RoIs only. deltas: (B, T, C+1, 4)."""
    ids = tf.cast(target_ids, tf.int32)
    picked = tf.gather(deltas, ids, batch_dims=2)
    per_roi = tf.reduce_sum(smooth_l1(target_deltas - picked), axis=-1)
    return _masked_mean(per_roi, ids > 0)


def mask_loss(target_ids, targets, valid, logits):
    """Per-pixel BCE of the true class's mask logits. logits (B, P, m, m, C); targets
    (B, P, m, m); target_ids (B, P) 1-based (only valid rows count)."""
    channel = tf.maximum(tf.cast(target_ids, tf.int32) - 1, 0)
    picked = tf.gather(tf.transpose(logits, (0, 1, 4, 2, 3)), channel, batch_dims=2)
    bce = tf.nn.sigmoid_cross_entropy_with_logits(targets, picked)
    per_roi = tf.reduce_mean(bce, axis=(-2, -1))
    return _masked_mean(per_roi, valid)
