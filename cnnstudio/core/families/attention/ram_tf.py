"""The one TensorFlow-specific piece of the RAM: a loss's gradients (GradientTape).

Keras 3 has no backend-neutral gradient call, so ``RecurrentAttention.train_step`` asks
here; everything else in the model, the Glimpse Sensor included, is ``keras.ops``.
"""

from __future__ import annotations

import tensorflow as tf


def value_and_grads(loss_fn, variables):
    """(loss, aux, gradients of loss w.r.t. ``variables``) for ``loss_fn() -> (loss, aux)``."""
    with tf.GradientTape() as tape:
        loss, aux = loss_fn()
    return loss, aux, tape.gradient(loss, variables)
