"""What a filter looks for: the image that excites it most, by gradient ascent on the pixels.

    result = maximize_filter(model, "c3", 5, steps=64, progress=report)
    result.image      # uint8 (H, W, C) in the model's input space

``progress(step, steps, activation)`` is called after each step; raising from it
(e.g. ``Cancelled``) stops the ascent at once, the Orange3 way.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from cnnstudio.core.keras_setup import keras
from cnnstudio.core.probes.autodiff import compiled_value_and_grads
from cnnstudio.core.probes.feature_maps import input_shape, single_input

Progress = Callable[[int, int, float], None]


class Cancelled(Exception):
    """Raise from a progress callback to stop a long probe."""


@dataclass
class MaxResult:
    image: np.ndarray               # uint8 (H, W, C)
    layer: str
    filter_index: int
    activations: list[float] = field(default_factory=list)   # mean pre-activation per step
    start_mean: float = 0.0          # mean (post-activation) output on the start image
    final_mean: float = 0.0          # … and on the result

    @property
    def gain(self) -> float:
        return self.activations[-1] - self.activations[0] if self.activations else 0.0


_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _objective(model, layer_name: str):
    """fn(x) → mean pre-activation per channel of the layer, built once per (model, layer).

    A ReLU channel that is zero everywhere on the grey start image has zero gradient
    and would never move, so conv layers are climbed on their pre-activation output.
    """
    with _lock:
        per_model = _cache.setdefault(model, {})
        if layer_name not in per_model:
            layer = model.get_layer(layer_name)
            ops = keras().ops
            if hasattr(layer, "convolution_op") and hasattr(layer, "kernel"):
                sub = keras().Model(single_input(model), layer.input)

                def fn(x, sub=sub, layer=layer):
                    pre = layer.convolution_op(sub(x, training=False), layer.kernel)
                    if getattr(layer, "use_bias", False):
                        pre = pre + layer.bias
                    return pre
            else:
                fn = keras().Model(single_input(model), layer.output)
            def climb(x, arg, fn=fn):        # the mean of filter arg[0]: one trace for all
                return ops.mean(ops.take(fn(x), arg[0], axis=-1)), [], ()

            per_model[layer_name] = (fn, keras().Model(single_input(model), layer.output), ops,
                                     compiled_value_and_grads(climb))
        return per_model[layer_name]


def channel_mean(model, layer: str, images) -> np.ndarray:
    """The layer's real (post-activation) mean output per channel, for reporting."""
    _, out, ops, _ = _objective(model, layer)
    x = np.asarray(images, np.float32).reshape(-1, *input_shape(model))
    return ops.convert_to_numpy(ops.mean(out(x, training=False), axis=(0, 1, 2)))


def filter_count(model, layer: str) -> int:
    return int(model.get_layer(layer).output.shape[-1])


def maximize_filter(model, layer: str, filter_index: int, steps: int = 64, step_size: float = 6.0,
                    blur_every: int = 4, seed: int = 0,
                    progress: Progress | None = None) -> MaxResult:
    """Ascend the mean activation of one channel of ``layer``, starting from grey noise.

    Pixels stay in 0..255 (the model's own input range); each step moves them
    ``step_size`` grey levels along the normalised gradient. A light blur every
    few steps keeps the image from turning into high-frequency noise.
    """
    _, _, _, gradient = _objective(model, layer)
    count = filter_count(model, layer)
    if not 0 <= filter_index < count:
        raise ValueError(f"{layer} has {count} filters; {filter_index} is out of range")
    shape = input_shape(model)
    rng = np.random.default_rng(seed)
    x = np.clip(128 + rng.normal(0, 16, size=(1, *shape)), 0, 255).astype(np.float32)
    start = x[0].copy()

    history: list[float] = []
    for step in range(1, steps + 1):
        value, grad, _, _, _ = gradient(x, [filter_index])
        history.append(value)
        grad = grad / (np.sqrt(np.mean(grad ** 2)) + 1e-8)
        x = np.clip(x + step_size * grad, 0, 255)
        if blur_every and step % blur_every == 0 and min(shape[:2]) >= 8:
            x[0] = cv2.GaussianBlur(x[0], (3, 3), 0.5).reshape(shape)
        if progress is not None:
            progress(step, steps, value)
    final, _, _, _, _ = gradient(x, [filter_index])
    history.append(final)
    image = np.round(x[0]).astype(np.uint8)
    return MaxResult(image, layer, int(filter_index), history,
                     float(channel_mean(model, layer, start)[filter_index]),
                     float(channel_mean(model, layer, image)[filter_index]))
