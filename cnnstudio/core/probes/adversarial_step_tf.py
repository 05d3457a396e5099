"""The TensorFlow half of adversarial training (``adversarial_training``): the train step
that replaces a share of each batch with its FGSM version before the model's own step."""

from __future__ import annotations

import tensorflow as tf

from cnnstudio.core.keras_setup import keras


def make_step(model, base, eps: float, ratio: float):
    """``train_step(data)``: FGSM on the batch's first ⌈ratio·n⌉ images, then ``base``."""
    k = keras()
    radius = eps * 255.0

    def train_step(data):
        x, y, sample_weight = k.utils.unpack_x_y_sample_weight(data)
        x = tf.cast(x, "float32")
        # A mask rather than a slice: the batch keeps one static shape (XLA on a GPU).
        n = tf.shape(x)[0]
        count = tf.cast(tf.math.ceil(ratio * tf.cast(n, "float32")), "int32")
        attacked = tf.reshape(tf.range(n) < count, [-1] + [1] * (len(x.shape) - 1))
        with tf.GradientTape() as tape:
            tape.watch(x)
            scores = tf.cast(model(x, training=False), "float32")
            # A sum: each image's gradient is its own. Keras takes the log-softmax from the
            # softmax's logits, so a confident model still has a gradient to follow.
            loss = tf.reduce_sum(k.losses.sparse_categorical_crossentropy(y, scores))
        direction = tf.sign(tape.gradient(loss, x))
        adversarial = tf.stop_gradient(tf.clip_by_value(x + radius * direction, 0.0, 255.0))
        mixed = tf.where(attacked, adversarial, x)
        return base(model, k.utils.pack_x_y_sample_weight(mixed, y, sample_weight))

    return train_step
