"""What a unit of a feature map can see: its theoretical and its effective receptive field.

    fields = receptive_fields(model)           # {layer: Field} for every spatial layer
    top, left, bottom, right = fields["c3"].box(row, col, (28, 28))   # clipped to the image
    erf = effective_field(model, "c3", image, row, col, channel)      # |∂unit/∂input|

The theoretical field follows the layers' kernels, strides, dilations and padding (Araujo
et al., "Computing receptive fields of CNNs", Distill 2019): per axis, a layer of kernel k,
stride s, dilation d and left padding p turns (size r, jump j, first pixel f) into

    r' = r + (d·(k − 1)) · j      j' = j · s      f' = f − p · j

where ``f`` is the input index of the first pixel unit 0 sees (negative: it sees padding).
Flatten, global pooling and Dense have no spatial layout: the walk stops there. Branches
that meet (Add, Concatenate) see the union of their fields. Layers that keep the spatial
size and are not convolutions or pooling (activations, batch norm, dropout, rescaling) are
taken as pointwise.

The effective field (Luo et al. 2016) is what the trained network actually uses: the
gradient of the unit's activation with respect to each input pixel, for one image.
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass, field

import numpy as np

from cnnstudio.core.errors import StudioError

KERNEL_TYPES = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")
POOL_TYPES = ("MaxPooling2D", "AveragePooling2D")
FLAT_TYPES = ("Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Dense", "Reshape")


def _pair(value) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    value = tuple(value)
    return (int(value[0]), int(value[0])) if len(value) == 1 else (int(value[0]), int(value[1]))


@dataclass(frozen=True)
class Step:
    """One layer's spatial arithmetic. ``padding``: "valid", "same" (Keras/TensorFlow: the
    extra pixel goes after) or explicit (top, left) pixels added before the image."""
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    padding: str | tuple[int, int] = "valid"


@dataclass(frozen=True)
class Field:
    """The receptive field of the units of one layer, in input pixels, per axis (row, col)."""
    size: tuple[int, int]
    jump: tuple[int, int]
    first: tuple[int, int]
    shape: tuple[int, int]          # the layer's output rows and columns

    def box(self, row: int, col: int, image_shape=None) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of unit (row, col)'s field, bottom/right exclusive;
        clipped to ``image_shape`` (rows, cols) when given."""
        top = self.first[0] + int(row) * self.jump[0]
        left = self.first[1] + int(col) * self.jump[1]
        bottom, right = top + self.size[0], left + self.size[1]
        if image_shape is not None:
            h, w = int(image_shape[0]), int(image_shape[1])
            top, left = max(top, 0), max(left, 0)
            bottom, right = min(bottom, h), min(right, w)
        return top, left, bottom, right

    def describe(self) -> str:
        (rh, rw), (jh, jw) = self.size, self.jump
        jump = f"{jh}" if jh == jw else f"{jh}×{jw}"
        return f"{rh}×{rw} pixels, neighbouring units {jump} pixel(s) apart"


def INPUT(shape) -> Field:  # noqa: N802 (the input layer's field: one pixel per unit)
    return Field((1, 1), (1, 1), (0, 0), (int(shape[0]), int(shape[1])))


def _axis(n: int, k: int, s: int, d: int, padding, axis: int) -> tuple[int, int, int]:
    """(effective kernel, left padding, output length) of one axis of one layer."""
    k_eff = d * (k - 1) + 1
    if padding == "same":
        out = math.ceil(n / s)
        before = max((out - 1) * s + k_eff - n, 0) // 2
    elif padding == "valid":
        out = max((n - k_eff) // s + 1, 0)
        before = 0
    else:
        before = int(padding[axis])
        out = max((n + 2 * before - k_eff) // s + 1, 0)
    return k_eff, before, out


def apply(step: Step, f: Field) -> Field:
    """The field after one more layer."""
    size, jump, first, shape = [], [], [], []
    for a in (0, 1):
        k_eff, before, out = _axis(f.shape[a], step.kernel[a], step.stride[a],
                                   step.dilation[a], step.padding, a)
        size.append(f.size[a] + (k_eff - 1) * f.jump[a])
        first.append(f.first[a] - before * f.jump[a])
        jump.append(f.jump[a] * step.stride[a])
        shape.append(out)
    return Field(tuple(size), tuple(jump), tuple(first), tuple(shape))


def stack(steps, input_shape) -> list[Field]:
    """The field after each of ``steps`` (a plain chain of layers) on an input of
    ``input_shape`` (rows, cols)."""
    out, f = [], INPUT(input_shape)
    for step in steps:
        f = apply(step, f)
        out.append(f)
    return out


def union(fields: list[Field]) -> Field:
    """Branches that meet: each unit sees what any branch's unit at that place sees."""
    first = tuple(min(f.first[a] for f in fields) for a in (0, 1))
    end = tuple(max(f.first[a] + f.size[a] for f in fields) for a in (0, 1))
    jump = tuple(max(f.jump[a] for f in fields) for a in (0, 1))
    return Field((end[0] - first[0], end[1] - first[1]), jump, first, fields[0].shape)


def layer_step(layer) -> Step | None:
    """The Step of a convolution or pooling layer, None for any other."""
    kind = type(layer).__name__
    if kind in KERNEL_TYPES:
        return Step(_pair(layer.kernel_size), _pair(layer.strides),
                    _pair(getattr(layer, "dilation_rate", 1)), str(layer.padding))
    if kind in POOL_TYPES:
        return Step(_pair(layer.pool_size), _pair(layer.strides or layer.pool_size),
                    (1, 1), str(layer.padding))
    return None


def _spatial(tensor) -> tuple[int, int] | None:
    shape = tuple(getattr(tensor, "shape", ()) or ())
    if len(shape) != 4 or shape[1] is None or shape[2] is None:
        return None
    return int(shape[1]), int(shape[2])


def _through(layer, inputs: list[Field], output) -> Field | None:
    """The field of ``layer``'s output from its inputs' fields; None: no spatial layout (or
    a layer whose arithmetic is not known, like a resize)."""
    if any(f is None for f in inputs) or not inputs:
        return None
    kind, out_shape = type(layer).__name__, _spatial(output)
    if kind in FLAT_TYPES or out_shape is None:
        return None
    if hasattr(layer, "layers") and hasattr(layer, "inputs") and len(inputs) == 1:
        nested = _walk(layer, inputs[0])             # a model used as a layer (a base)
        return nested.get("__output__")
    step = layer_step(layer)
    if step is not None:
        return apply(step, inputs[0])
    f = inputs[0] if len(inputs) == 1 else union(inputs)
    if kind == "ZeroPadding2D":
        (top, _), (left, _) = layer.padding
        f = Field(f.size, f.jump, (f.first[0] - top * f.jump[0], f.first[1] - left * f.jump[1]),
                  f.shape)
    elif kind == "Cropping2D":
        (top, _), (left, _) = layer.cropping
        f = Field(f.size, f.jump, (f.first[0] + top * f.jump[0], f.first[1] + left * f.jump[1]),
                  f.shape)
    elif out_shape != f.shape:
        return None                                  # a resize: not a field any more
    return Field(f.size, f.jump, f.first, out_shape)


def _walk(model, start: Field) -> dict:
    """{layer name: Field or None} of a functional or Sequential model; "__output__": the
    field of its (first) output."""
    fields: dict = {}
    if not hasattr(model, "inputs") or not getattr(model, "inputs", None):
        return fields
    if type(model).__name__ == "Sequential":
        f = start
        for layer in model.layers:
            f = _through(layer, [f], layer.output)
            fields[layer.name] = f
        fields["__output__"] = f
        return fields
    tensors = {id(t): start for t in model.inputs}
    for layer in model.layers:
        for node in getattr(layer, "_inbound_nodes", ()):
            ins = list(getattr(node, "input_tensors", ()))
            if not ins or any(id(t) not in tensors for t in ins):
                continue                             # a call from another model's graph
            outs = list(getattr(node, "output_tensors", ()))
            f = _through(layer, [tensors[id(t)] for t in ins], outs[0] if outs else None)
            for t in outs:
                tensors[id(t)] = f
            fields[layer.name] = f
    fields["__output__"] = tensors.get(id(model.outputs[0]))
    return fields


def receptive_fields(model) -> dict[str, Field]:
    """{layer name: Field} of every layer of ``model`` with an image-shaped output."""
    shape = _spatial(model.inputs[0]) if getattr(model, "inputs", None) else None
    if shape is None:
        return {}
    found = _walk(model, INPUT(shape))
    return {name: f for name, f in found.items() if name != "__output__" and f is not None}


def field_of(model, layer: str) -> Field:
    fields = receptive_fields(model)
    if layer not in fields:
        raise StudioError(f"layer {layer!r} of {model.name} has no receptive field the studio "
                          "can compute (no spatial layout, or a layer it cannot follow)")
    return fields[layer]


# -- the effective field ---------------------------------------------------------------------

class LayerOutput:
    """input → one layer's output, built once per (model, layer) and cached (the extractor
    shares the model's weights, so it follows training)."""

    _cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    _lock = threading.Lock()

    def __init__(self, model, layer: str):
        from cnnstudio.core.keras_setup import keras
        from cnnstudio.core.probes.feature_maps import single_input

        self.layer = layer
        self.model = keras().Model(single_input(model), model.get_layer(layer).output,
                                   name=f"unit_{layer}")

    @classmethod
    def get(cls, model, layer: str) -> LayerOutput:
        with cls._lock:
            per_model = cls._cache.setdefault(model, {})
            if layer not in per_model:
                per_model[layer] = cls(model, layer)
            return per_model[layer]

    def unit_gradient(self):
        """The compiled ∂ unit / ∂ input, the unit ``arg`` = (row, col, channel); kept."""
        if "_unit_gradient" not in self.__dict__:
            from cnnstudio.core.keras_setup import keras
            from cnnstudio.core.probes.autodiff import compiled_value_and_grads

            ops = keras().ops

            def fn(x, arg):
                out = self.model(x, training=False)[0]
                return ops.take(ops.take(ops.take(out, arg[0], axis=0), arg[1], axis=0),
                                arg[2], axis=0), [], ()

            self._unit_gradient = compiled_value_and_grads(fn)
        return self._unit_gradient

    def __call__(self, x) -> np.ndarray:
        from cnnstudio.core.keras_setup import keras

        out = self.model(np.asarray(x, np.float32), training=False)
        return np.asarray(keras().ops.convert_to_numpy(out), np.float32)


@dataclass
class EffectiveField:
    heat: np.ndarray                 # (H, W) |gradient| in 0..1 (max over colour channels)
    gradient: np.ndarray             # (H, W, C) the raw gradient
    activation: float                # the unit's value for this image
    support: tuple[int, int, int, int] | None    # box around the non-zero gradient
    unit: tuple[int, int, int] = (0, 0, 0)       # (row, col, channel)
    notes: list[str] = field(default_factory=list)


def _support(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return None
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def effective_field(model, layer: str, image, row: int, col: int,
                    channel: int = 0) -> EffectiveField:
    """|∂ activation(row, col, channel) / ∂ input| for one raw-pixel image."""
    from cnnstudio.core.probes.feature_maps import as_batch, input_shape

    extractor = LayerOutput.get(model, layer)
    h, w, c = (int(d) for d in extractor.model.outputs[0].shape[1:])
    if not (0 <= row < h and 0 <= col < w and 0 <= channel < c):
        raise StudioError(f"layer {layer} has {h}×{w} units in {c} channels; "
                          f"unit ({row}, {col}) of channel {channel} is outside it")

    value, grad, _, _, _ = extractor.unit_gradient()(as_batch(image, input_shape(model)),
                                                     [row, col, channel])
    grad = grad[0]
    magnitude = np.abs(grad).max(axis=-1)
    top = float(magnitude.max())
    notes = [] if top > 0 else ["the gradient is zero everywhere: the unit is switched off "
                                "(ReLU ≤ 0) for this image, or a max-pooling passed another"]
    return EffectiveField((magnitude / top if top > 0 else magnitude).astype(np.float32),
                          grad.astype(np.float32), float(value), _support(magnitude > 0),
                          (int(row), int(col), int(channel)), notes)
