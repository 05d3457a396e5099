"""TensorFlow side of the pretrained COCO Mask R-CNN: load the zoo SavedModel and run it.

``tf.saved_model.load`` (not Keras's ``load_model``, which cannot read Object Detection
API SavedModels). A loaded model is kept per folder: loading the zoo model takes tens of
seconds, a call a few.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import tensorflow as tf

from cnnstudio.core.errors import DataError

_LOADED: dict[str, object] = {}
_LOCK = threading.Lock()
OUTPUT_KEYS = ("detection_boxes", "detection_classes", "detection_scores", "detection_masks",
               "num_detections")


def load(folder: Path):
    key = str(Path(folder).resolve())
    with _LOCK:
        if key not in _LOADED:
            try:
                _LOADED[key] = tf.saved_model.load(key)
            except (OSError, ValueError, tf.errors.OpError) as exc:
                raise DataError(f"cannot load the SavedModel in {folder}: "
                                f"{str(exc).splitlines()[0]}") from None
        return _LOADED[key]


def run(model, image: np.ndarray) -> dict:
    """One uint8 RGB image (H, W, 3) → the zoo's output dict as numpy (batch of one)."""
    outputs = model(tf.constant(np.asarray(image, np.uint8)[None]))
    return {k: v.numpy() for k, v in outputs.items() if k in OUTPUT_KEYS}
