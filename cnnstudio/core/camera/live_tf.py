"""The model's forward pass traced once for one frame's shape (TensorFlow backend): per frame
it then costs the graph, not Keras's eager call or ``predict``'s per-call set-up."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def compiled_forward(model, shape: tuple[int, ...]):
    """``forward(batch)`` → numpy outputs of ``model`` for float32 batches of one image."""
    @tf.function(input_signature=[tf.TensorSpec((1, *shape), tf.float32)])
    def forward(x):
        out = model(x, training=False)
        return out[0] if isinstance(out, (list, tuple)) else out

    def run(batch: np.ndarray) -> np.ndarray:
        return forward(tf.convert_to_tensor(batch, tf.float32)).numpy()

    return run
