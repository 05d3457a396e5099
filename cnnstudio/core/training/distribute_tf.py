"""TensorFlow's side of device "all" (imported only on the TensorFlow backend)."""

from __future__ import annotations

import tensorflow as tf


def replica_devices() -> list[str]:
    """Every GPU, else the CPU's logical devices (one unless the process split it)."""
    found = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return [d.name for d in found]


def mirrored(names: list[str]):
    return tf.distribute.MirroredStrategy(names)
