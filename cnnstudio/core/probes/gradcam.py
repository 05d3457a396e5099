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
from cnnstudio.core.probes.autodiff import compiled_value_and_grads
from cnnstudio.core.probes.feature_maps import (
    as_batch,
    input_shape,
    map_layer_names,
    single_input,
)
from cnnstudio.core.probes.filters import CONV_TYPES, conv_layer_names
from cnnstudio.core.probes.nested_layers import Taps, find, last_softmax_dense, walk


@dataclass
class HeatMap:
    heatmap: np.ndarray            # (H, W) float32 in 0..1, the input's size
    class_index: int
    probabilities: np.ndarray      # (classes,)
    layer: str                     # conv layer used ("" for saliency)
    method: str                    # "grad-cam" or "saliency"
    raw: np.ndarray | None = None  # the map at the layer's own resolution


def default_layer(model) -> str:
    """The last conv layer: the highest-level features that still have a spatial layout.
    A model whose convolutions sit in a nested model (a Teachable Machine export's
    MobileNet base) gets the path of the last one inside it, "outer/inner/Conv_1"."""
    names = conv_layer_names(model) or map_layer_names(model)
    if not names:
        names = [path for path, layer in walk(model) if type(layer).__name__ in CONV_TYPES
                 and len(layer.output.shape) == 4]
    if not names:
        raise ValueError(f"model {model.name} has no convolution layer for Grad-CAM")
    return names[-1]


def _logits_head(model):
    """The Dense+softmax layer that ends the model (nested models entered), else None: its
    input and weights give the logits."""
    return last_softmax_dense(model)


def _top_level(model, layer) -> bool:
    return layer is None or any(lay is layer for lay in model.layers)


class _GradModel:
    """input → (conv layer output, head) built once per (model, layer) and cached."""

    _cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    _lock = threading.Lock()

    def __init__(self, model, layer: str | None):
        self.layer = layer
        self.head = _logits_head(model)
        conv = find(model, layer) if layer else None
        if _top_level(model, conv) and _top_level(model, self.head):
            head_out = self.head.input if self.head is not None else model.outputs[0]
            outs = [conv.output, head_out] if layer else [head_out]
            self.model = keras().Model(single_input(model), outs, name="gradcam")
            return
        # Inside a nested model: a flat copy of the graph reaches the layer (same weights).
        taps = Taps(model, {"conv": conv} if conv is not None else {},
                    {"head": self.head} if self.head is not None else {})
        flat = taps.model
        outs = flat.outputs[:-1] if self.head is not None else flat.outputs
        self.model = keras().Model(flat.inputs[0], outs, name="gradcam")

    def gradients(self, method: str):
        """The compiled gradient for ``method``, traced on first use and kept."""
        compiled = self.__dict__.setdefault("_compiled", {})
        if method not in compiled:
            if method == "grad-cam":
                def fn(x, arg):
                    conv, head = self.model(x, training=False)
                    scores = self.scores(head)
                    target, index = _target(scores, arg)
                    return target, [conv], (scores, index)
            else:
                def fn(x, arg):
                    scores = self.scores(self.model(x, training=False))
                    target, index = _target(scores, arg)
                    return target, [], (scores, index)
            compiled[method] = compiled_value_and_grads(fn)
        return compiled[method]

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


def _target(scores, arg):
    """The summed score of class ``arg[0]``, or of the predicted class when it is -1 (in the
    graph: one trace serves every class)."""
    ops = keras().ops
    predicted = ops.cast(ops.argmax(scores[0]), "int64")
    index = ops.where(arg[0] < 0, predicted, arg[0])
    return ops.sum(ops.take(scores, index, axis=1)), index


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
    _, _, (grad,), (conv,), (scores, index) = gm.gradients("grad-cam")(
        as_batch(image, shape), [-1 if class_index is None else class_index])
    weights = grad[0].mean(axis=(0, 1))                       # one weight per channel
    cam = np.maximum((conv[0] * weights).sum(axis=-1), 0.0)   # keep what speaks *for* the class
    return HeatMap(_fit(cam, shape), int(index), _probabilities(gm, scores[0]),
                   layer, "grad-cam", cam.astype(np.float32))


def saliency(model, image, class_index: int | None = None) -> HeatMap:
    """|∂ score / ∂ pixel|, strongest over colour channels (Simonyan et al. 2014)."""
    gm = _GradModel.get(model, None)
    shape = input_shape(model)
    _, grad, _, _, (scores, index) = gm.gradients("saliency")(
        as_batch(image, shape), [-1 if class_index is None else class_index])
    sal = np.abs(grad[0]).max(axis=-1)
    return HeatMap(_fit(sal, shape), int(index), _probabilities(gm, scores[0]),
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
