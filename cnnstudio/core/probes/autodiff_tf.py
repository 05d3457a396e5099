"""TensorFlow gradients for the probes (the only TensorFlow-specific code in probes/)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def compiled_value_and_grads(fn):
    """The gradient of a scalar target w.r.t. the input and intermediates, traced once per
    input shape: ``fn(x, arg)`` returns ``(scalar target, [intermediates], aux)``, ``arg``
    an int vector (a class, a unit).

    Eager tapes are not only slower: with oneDNN (TensorFlow's CPU default) the eager
    gradient of a strided 1×1 convolution at 224 px corrupts the heap (TF 2.21: "free():
    invalid pointer", segfaults; a plain Keras model reproduces it), which MobileNet and
    ResNet have; the same gradient traced in a graph does not."""
    @tf.function(reduce_retracing=True)
    def run(x, arg):
        with tf.GradientTape() as tape:
            tape.watch(x)
            target, extras, aux = fn(x, arg)
        grads = tape.gradient(target, [x, *extras])
        grads = [tf.zeros_like(t) if g is None else g
                 for g, t in zip(grads, [x, *extras], strict=True)]
        return target, grads, extras, aux

    def call(x, arg=()):
        target, grads, extras, aux = run(
            tf.convert_to_tensor(np.asarray(x, dtype=np.float32)),
            tf.convert_to_tensor(np.asarray(arg, dtype=np.int64).reshape(-1)))
        return (float(target), grads[0].numpy(), [g.numpy() for g in grads[1:]],
                [e.numpy() for e in extras], tf.nest.map_structure(lambda t: t.numpy(), aux))

    return call


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
