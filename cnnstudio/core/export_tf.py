"""The export self-test's TensorFlow-side runtimes: the SavedModel loader and the TFLite
interpreter (LiteRT's own ``ai_edge_litert`` when installed, else TensorFlow's ``tf.lite``).

Each takes the written file and a uint8 (N, H, W, C) batch, and returns the probabilities
(float64) and the runtime's name, for cnnstudio.core.export to compare with Keras.
"""

from __future__ import annotations

import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import tensorflow as tf


def run_savedmodel(path: Path, images: np.ndarray) -> tuple[np.ndarray, str]:
    """Through ``serving_default``, the signature TF Serving and other loaders call."""
    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures["serving_default"]
    (name, _spec), = serve.structured_input_signature[1].items()
    outputs = serve(**{name: tf.constant(images)})
    probs = next(iter(outputs.values()))
    return np.asarray(probs, np.float64), f"tf.saved_model {tf.__version__}"


def tflite_interpreter(path: Path):
    """The LiteRT interpreter (TensorFlow deprecated ``tf.lite.Interpreter`` in its favour)."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter(model_path=str(path)), f"ai_edge_litert {version('ai-edge-litert')}"
    except ImportError:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # the deprecation notice, once per export
            return tf.lite.Interpreter(model_path=str(path)), f"tf.lite {tf.__version__}"


def run_tflite(path: Path, images: np.ndarray) -> tuple[np.ndarray, str]:
    interpreter, runtime = tflite_interpreter(path)
    entry = interpreter.get_input_details()[0]
    # The file's batch dimension is a dynamic 1; size it to the whole probe batch.
    interpreter.resize_tensor_input(entry["index"], list(images.shape), strict=True)
    interpreter.allocate_tensors()
    interpreter.set_tensor(entry["index"], images.astype(entry["dtype"]))
    interpreter.invoke()
    probs = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    return np.asarray(probs, np.float64), runtime
