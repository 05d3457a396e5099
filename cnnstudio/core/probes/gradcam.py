"""Grad-CAM and saliency: where in the image the network looked for a class.

    result = grad_cam(model, image)            # predicted class, last conv layer
    result.heatmap                             # (H, W) in 0..1 at the input's size
    sal = saliency(model, image, class_index=3)

Grad-CAM (Selvaraju et al. 2017) weighs each channel of a conv layer by the mean
gradient of the class score and keeps the positive part. The score is the
pre-softmax logit when the model ends in a softmax Dense layer: softmax
probabilities saturate near 1 and their gradients vanish.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import cv2
import numpy as np

from cnnstudio.core.keras_setup import keras
from cnnstudio.core.probes.autodiff import value_and_grads
from cnnstudio.core.probes.feature_maps import (
    as_batch,
    input_shape,
    map_layer_names,
    single_input,
)
from cnnstudio.core.probes.filters import conv_layer_names


@dataclass
class HeatMap:
    heatmap: np.ndarray            # (H, W) float32 in 0..1, the input's size
    class_index: int
    probabilities: np.ndarray      # (classes,)
    layer: str                     # conv layer used ("" for saliency)
    method: str                    # "grad-cam" or "saliency"
    raw: np.ndarray | None = None  # the map at the layer's own resolution


def default_layer(model) -> str:
    """The last conv layer: the highest-level features that still have a spatial layout."""
    names = conv_layer_names(model) or map_layer_names(model)
    if not names:
        raise ValueError(f"model {model.name} has no convolution layer for Grad-CAM")
    return names[-1]


def _logits_head(model):
    """(layer whose input to take, kernel, bias) when the model ends in Dense+softmax, else None."""
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if type(last).__name__ == "Dense" and activation == "softmax":
        return last
    return None


class _GradModel:
    """input → (conv layer output, head) built once per (model, layer) and cached."""

    _cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    _lock = threading.Lock()

    def __init__(self, model, layer: str | None):
        self.layer = layer
        self.head = _logits_head(model)
        head_out = self.head.input if self.head is not None else model.outputs[0]
        outs = [model.get_layer(layer).output, head_out] if layer else [head_out]
        self.model = keras().Model(single_input(model), outs, name="gradcam")

    @classmethod
    def get(cls, model, layer):
        with cls._lock:
            per_model = cls._cache.setdefault(model, {})
            if layer not in per_model:
                per_model[layer] = cls(model, layer)
            return per_model[layer]

    def scores(self, head):
        """Class scores (logits if we can reach them) from the head output."""
        if self.head is None:
            return head
        ops = keras().ops
        logits = ops.matmul(ops.cast(head, "float32"), ops.cast(self.head.kernel, "float32"))
        if self.head.bias is not None:
            logits = logits + ops.cast(self.head.bias, "float32")
        return logits


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _target(scores, class_index, state):
    ops = keras().ops
    if class_index is None:
        class_index = int(np.argmax(ops.convert_to_numpy(scores)[0]))
    state["class_index"] = class_index
    state["scores"] = ops.convert_to_numpy(scores)[0]
    return ops.sum(scores[:, class_index])


def _probabilities(grad_model, scores: np.ndarray) -> np.ndarray:
    return _softmax(scores) if grad_model.head is not None else np.asarray(scores)


def _fit(heat: np.ndarray, shape) -> np.ndarray:
    heat = cv2.resize(heat.astype(np.float32), (shape[1], shape[0]),
                      interpolation=cv2.INTER_LINEAR)
    top = float(heat.max())
    return heat / top if top > 0 else np.zeros_like(heat)


def grad_cam(model, image, class_index: int | None = None, layer: str | None = None) -> HeatMap:
    """Grad-CAM of ``class_index`` (default: the predicted class) for one raw-pixel image."""
    layer = layer or default_layer(model)
    gm = _GradModel.get(model, layer)
    shape = input_shape(model)
    state: dict = {}

    def fn(x):
        conv, head = gm.model(x, training=False)
        return _target(gm.scores(head), class_index, state), [conv]

    _, _, (grad,), (conv,) = value_and_grads(fn, as_batch(image, shape))
    weights = grad[0].mean(axis=(0, 1))                       # one weight per channel
    cam = np.maximum((conv[0] * weights).sum(axis=-1), 0.0)   # keep what speaks *for* the class
    return HeatMap(_fit(cam, shape), state["class_index"], _probabilities(gm, state["scores"]),
                   layer, "grad-cam", cam.astype(np.float32))


def saliency(model, image, class_index: int | None = None) -> HeatMap:
    """|∂ score / ∂ pixel|, strongest over colour channels (Simonyan et al. 2014)."""
    gm = _GradModel.get(model, None)
    shape = input_shape(model)
    state: dict = {}

    def fn(x):
        return _target(gm.scores(gm.model(x, training=False)), class_index, state), []

    _, grad, _, _ = value_and_grads(fn, as_batch(image, shape))
    sal = np.abs(grad[0]).max(axis=-1)
    return HeatMap(_fit(sal, shape), state["class_index"], _probabilities(gm, state["scores"]),
                   "", "saliency", sal.astype(np.float32))


def overlay(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.5,
            colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """The image (grey or RGB uint8) blended with a coloured heat map → uint8 RGB."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    rgb = np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image[:, :, :3]
    heat = cv2.resize(np.asarray(heatmap, np.float32), (rgb.shape[1], rgb.shape[0]))
    coloured = cv2.applyColorMap(np.uint8(np.clip(heat, 0, 1) * 255), colormap)[:, :, ::-1]
    out = (1 - alpha) * rgb.astype(np.float32) + alpha * coloured.astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)
