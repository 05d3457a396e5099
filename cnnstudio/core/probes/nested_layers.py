"""Layers inside models used as layers: a Teachable Machine export's MobileNet base.

    walk(model)                           # ("sequential_4/sequential_1/model1/Conv1", layer), …
    find(model, "model1/Conv1")           # a path, or a name unique across the nesting
    taps = Taps(model, {"conv": conv_layer}, {"logits": last_dense})
    conv, logits, output = taps.model(x)  # one flat keras.Model, sharing the weights

A probe that reads a layer's output (Grad-CAM's last conv layer) builds a
``keras.Model(model.inputs, layer.output)``; that fails when the layer belongs to a nested
model's graph, not the outer one. ``Taps`` re-traces the outer graph on a new input with
every nested functional or Sequential model opened up, so the inner layers are called in
the outer graph and their tensors can be outputs. The layers (and so the weights) are the
model's own; only new graph nodes are added.
"""

from __future__ import annotations

from cnnstudio.core.keras_setup import keras


def _graph(model):
    """The functional graph that runs ``model`` (a Sequential keeps one once built), or None
    for a subclassed model, whose ``call`` is Python and cannot be opened."""
    if hasattr(model, "_run_through_graph") and hasattr(model, "_nodes_by_depth"):
        return model
    inner = getattr(model, "_functional", None)
    return inner if inner is not None and hasattr(inner, "_run_through_graph") else None


def is_nested(layer) -> bool:
    """A model used as a layer whose own layers can be reached in the outer graph."""
    return isinstance(layer, keras().Model) and _graph(layer) is not None


def walk(model, prefix: str = ""):
    """(path, layer) of every layer in model order, nested models entered ("outer/inner")."""
    for layer in getattr(model, "layers", []):
        yield prefix + layer.name, layer
        if is_nested(layer):
            yield from walk(layer, f"{prefix}{layer.name}/")


def find(model, name: str):
    """The layer at ``name``: a path from :func:`walk`, or a bare name found once in it."""
    for layer in getattr(model, "layers", []):       # the outer model's own names first
        if layer.name == name:
            return layer
    found = [layer for path, layer in walk(model)
             if path == name or path.rsplit("/", 1)[-1] == name]
    if len(found) != 1:
        what = "no layer" if not found else f"{len(found)} layers"
        raise ValueError(f"model {model.name} has {what} named {name!r}")
    return found[0]


def last_softmax_dense(model):
    """The Dense+softmax layer that ends ``model`` (entering a nested last layer), or None."""
    layers = getattr(model, "layers", [])
    if not layers:
        return None
    last = layers[-1]
    if is_nested(last):
        return last_softmax_dense(last)
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    return last if type(last).__name__ == "Dense" and activation == "softmax" else None


class Taps:
    """A flat model: input → [each tapped layer's output, each tapped layer's input, output].

    ``outputs`` and ``inputs`` map a key to a layer; ``model`` returns the tensors in the
    order ``keys`` lists (outputs' keys, then inputs' keys), then the model's own output.
    """

    def __init__(self, model, outputs: dict[str, object] | None = None,
                 inputs: dict[str, object] | None = None):
        outputs, inputs = dict(outputs or {}), dict(inputs or {})
        self.keys = [*outputs, *inputs]
        wanted = {id(layer) for layer in [*outputs.values(), *inputs.values()]}
        seen: dict[int, tuple] = {}
        k = keras()
        start = k.Input(tuple(model.inputs[0].shape[1:]), name="image")
        end = self._trace(model, start, wanted, seen)
        missing = [key for key, layer in [*outputs.items(), *inputs.items()]
                   if id(layer) not in seen]
        if missing:
            raise ValueError(f"cannot reach layer(s) {', '.join(missing)} of model "
                             f"{model.name} (a subclassed model's layers cannot be tapped)")
        tensors = [seen[id(layer)][1] for layer in outputs.values()]
        tensors += [seen[id(layer)][0] for layer in inputs.values()]
        self.model = k.Model(start, [*tensors, end], name=f"{model.name}_taps")

    def _trace(self, model, tensor, wanted: set[int], seen: dict):
        graph = _graph(model)
        if graph is None:
            raise ValueError(f"{model.name} is a subclassed model: its layers cannot be tapped")

        def operation(op):
            if is_nested(op):
                return lambda *args, **kwargs: self._trace(op, args[0], wanted, seen)
            if id(op) not in wanted:
                return op

            def call(*args, **kwargs):
                out = op(*args, **kwargs)
                seen[id(op)] = (args[0], out)
                return out
            return call

        out = graph._run_through_graph([tensor], operation_fn=operation)
        return out[0] if isinstance(out, (list, tuple)) else out
