"""TensorFlow gradients for the probes (the only TensorFlow-specific code in probes/)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def value_and_grads(fn, x):
    x = tf.convert_to_tensor(np.asarray(x, dtype=np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        target, extras = fn(x)
    grads = tape.gradient(target, [x, *extras])
    grads = [np.zeros(t.shape, np.float32) if g is None else g.numpy()
             for g, t in zip(grads, [x, *extras], strict=True)]
    return float(target), grads[0], grads[1:], [np.asarray(e) for e in extras]


def compiled_input_gradient(loss):
    @tf.function(reduce_retracing=True)
    def grad(x, classes):
        with tf.GradientTape() as tape:
            tape.watch(x)
            target = loss(x, classes)
        return tape.gradient(target, x)

    def call(x, classes):
        return grad(tf.convert_to_tensor(np.asarray(x, np.float32)),
                    tf.convert_to_tensor(np.asarray(classes, np.int64))).numpy()

    return call
