"""TensorFlow-only runtime settings. Imported only when Keras runs on the TensorFlow backend."""

from __future__ import annotations

import tensorflow as tf


def gpu_names() -> list[str]:
    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    return names


def enable_memory_growth() -> None:
    """Take GPU memory as needed instead of all of it, so other apps (and runs) fit too."""
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:    # already initialised in this process: setting is fixed
            pass


def gpu_memory_mb(index: int = 0) -> float | None:
    try:
        info = tf.config.experimental.get_memory_info(f"GPU:{index}")
    except (ValueError, RuntimeError):
        return None
    return info["current"] / 2**20
