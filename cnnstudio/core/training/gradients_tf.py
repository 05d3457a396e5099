"""Gradients for the families' own ``train_step`` (GAN, SSGAN, RAM, captioner).

Keras 3 has no backend-neutral gradient call, so each custom step asks here for its
GradientTape; everything else in those steps is ``keras.ops``.
"""

from __future__ import annotations

import tensorflow as tf


def value_and_grads(loss_fn, variables):
    """(loss, aux, gradients of loss w.r.t. ``variables``) for ``loss_fn() -> (loss, aux)``."""
    with tf.GradientTape() as tape:
        loss, aux = loss_fn()
    return loss, aux, tape.gradient(loss, variables)


def with_input_gradient(network, x, training=True):
    """(network(x), ‖∇ₓ network(x)‖² per sample): the R1 penalty's gradient norms.

    Called inside ``value_and_grads``' loss function, the outer tape records this inner
    gradient too, so the penalty is itself differentiated w.r.t. the network's weights
    (a second-order gradient)."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = network(x, training=training)
        total = tf.reduce_sum(out)      # each sample's output depends on its own input only
    grad = tape.gradient(total, x)
    return out, tf.reduce_sum(tf.square(grad), axis=list(range(1, len(grad.shape))))
