"""Network surgery: switch convolution filters off and see what the network loses.

    conv_layers(model)                          # ["c1", "c3"]: layers whose filters can be cut
    cut_model = cut(model, {"c3": [3, 7]})      # a copy; ``model`` is never changed
    evaluate(cut_model, x, y)                   # {"accuracy": 0.91, "confusion": (C, C) int}
    rank_filters(model, "c3", x, y)             # [(filter, accuracy without it, drop), …]
    save_as_run(cut_model, run_dir, "no-c3-7", runs_root)   # a run folder of its own

What "off" means: the filter's kernel is zeroed and its bias set where the layer's activation
gives 0 (0 for relu, tanh, elu, linear; −10⁴ for sigmoid), so its feature map is exactly 0.
When a BatchNormalization follows (directly, or after activations and dropout that keep 0 at
0) its beta and moving mean are zeroed for that channel too: otherwise it would turn the
zero map into a constant −γ·mean/σ + β, and the filter would not really be gone.
Images are raw pixels (what the studio's models take). Call these on the thread that owns
the model.
"""

from __future__ import annotations

import tempfile
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.probes.confusion import confusion_matrix

CUTTABLE = ("Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D",
            "DepthwiseConv1D", "DepthwiseConv2D")
# Layers a zero map passes through as zero, channel by channel (dropout: identity at test time).
PASS_THROUGH = ("Activation", "ReLU", "LeakyReLU", "ELU", "Dropout", "SpatialDropout1D",
                "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
                "AlphaDropout", "ActivityRegularization")
OFF_BIAS = -1.0e4                 # sigmoid(−10⁴) is exactly 0 in float32
ROWS_PER_CALL = 1 << 24           # feature-map values fed to one masked call (64 MB)

_CUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()     # copy → the cuts made
_SPLITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # model → {layer: split}
_lock = threading.Lock()


# -- which layers ---------------------------------------------------------------------------
def _walk(model, prefix: str = ""):
    """(path, layer) of every layer, nested models' layers as "outer/inner"."""
    for layer in getattr(model, "layers", []):
        yield prefix + layer.name, layer
        if getattr(layer, "layers", None):
            yield from _walk(layer, f"{prefix}{layer.name}/")


def conv_layers(model) -> list[str]:
    """The layers whose filters can be cut, in model order."""
    return [path for path, layer in _walk(model) if type(layer).__name__ in CUTTABLE]


def _layer(model, name: str):
    for path, layer in _walk(model):
        if path == name and type(layer).__name__ in CUTTABLE:
            return layer
    known = ", ".join(conv_layers(model)) or "none: the model has no convolution layers"
    raise StudioError(f"no convolution layer {name!r} to cut; the layers are: {known}")


def filter_count(layer) -> int:
    variable, depthwise = _kernel(layer)
    return int(np.prod(variable.shape[-2:]) if depthwise else variable.shape[-1])


def _kernel(layer):
    """(the variable holding the output filters' weights, True if depthwise: its last two
    axes are input channel × multiplier)."""
    if hasattr(layer, "pointwise_kernel"):              # separable: the pointwise part
        return layer.pointwise_kernel, False
    return layer.kernel, type(layer).__name__.startswith("Depthwise")


def _check(model, cuts: dict) -> dict[str, list[int]]:
    if not isinstance(cuts, dict):
        raise StudioError(f"cuts must map layer names to filter indices, got {cuts!r}")
    clean = {}
    for name, filters in cuts.items():
        n = filter_count(_layer(model, name))
        picked = sorted({int(f) for f in filters})
        bad = [f for f in picked if not 0 <= f < n]
        if bad:
            raise StudioError(f"layer {name} has filters 0–{n - 1}; there is no filter "
                              f"{', '.join(map(str, bad))}")
        clean[name] = picked
    return clean


# -- cutting --------------------------------------------------------------------------------
def _numpy(values) -> np.ndarray:
    return np.asarray(keras().ops.convert_to_numpy(values), np.float32)


def _off_bias(activation) -> float:
    """A bias at which the activation gives exactly 0 (None if none does)."""
    probe = _numpy(activation(keras().ops.convert_to_tensor(
        np.array([0.0, OFF_BIAS], np.float32))))
    return 0.0 if probe[0] == 0 else (OFF_BIAS if probe[1] == 0 else None)


def _keeps_zero(layer) -> bool:
    activation = getattr(layer, "activation", None)
    return activation is None or _off_bias(activation) == 0.0


def following_batchnorm(layer):
    """The BatchNormalization the layer's maps go through alone (through activations and
    dropout that keep 0 at 0), else None."""
    current = layer
    while True:
        consumers = {id(n.operation): n.operation for n in getattr(current, "_outbound_nodes",
                                                                   [])}
        if len(consumers) != 1:
            return None
        after = next(iter(consumers.values()))
        kind = type(after).__name__
        if kind == "BatchNormalization":
            return after
        if kind not in PASS_THROUGH or not _keeps_zero(after):
            return None
        current = after


def _split_layer(layer):
    """Where a cut filter's map is final: the following BatchNorm's output, or the layer's."""
    return following_batchnorm(layer) or layer


def _zero(layer, filters: list[int]) -> None:
    if not filters:
        return
    variable, depthwise = _kernel(layer)
    kernel = _numpy(variable)
    if depthwise:                       # output channel o = input channel o // m, copy o % m
        mult = kernel.shape[-1]
        for f in filters:
            kernel[..., f // mult, f % mult] = 0.0
    else:
        kernel[..., filters] = 0.0
    variable.assign(kernel)
    bias = getattr(layer, "bias", None)
    if bias is not None:
        values = _numpy(bias)
        values[filters] = _off_bias(layer.activation) or 0.0
        bias.assign(values)
    norm = following_batchnorm(layer)
    if norm is not None:
        for name in ("beta", "moving_mean"):
            variable = getattr(norm, name, None)
            if variable is not None:
                values = _numpy(variable)
                values[filters] = 0.0
                variable.assign(values)


def copy_model(model):
    """A new model with the same architecture and a copy of the weights."""
    try:
        twin = keras().models.clone_model(model)
    except Exception:          # a subclassed model (transfer): through a .keras file
        from cnnstudio.core.predict import load_model_file

        with tempfile.TemporaryDirectory(prefix="cnnstudio-cut-") as folder:
            path = Path(folder) / "model.keras"
            model.save(path)
            return load_model_file(path)
    twin.set_weights(model.get_weights())
    return twin


def cut(model, cuts: dict) -> object:
    """A copy of ``model`` with the given filters switched off ({layer: [indices]}); cutting
    a cut model adds to its cuts. The original is untouched."""
    clean = _check(model, cuts)
    twin = copy_model(model)
    for name, filters in clean.items():
        _zero(_layer(twin, name), filters)
    merged = {k: list(v) for k, v in cuts_of(model).items()}
    for name, filters in clean.items():
        merged[name] = sorted(set(merged.get(name, [])) | set(filters))
    _CUTS[twin] = {k: v for k, v in merged.items() if v}
    return twin


def cuts_of(model) -> dict[str, list[int]]:
    """The filters ``cut`` switched off in this model ({} for an uncut one)."""
    return dict(_CUTS.get(model, {}))


# -- measuring ------------------------------------------------------------------------------
def _scores(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    return np.concatenate([np.asarray(model.predict_on_batch(x[i:i + batch_size]))
                           for i in range(0, len(x), batch_size)])


def _predicted(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    return _scores(model, x, batch_size).argmax(axis=-1)


def _inputs(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, np.float32), np.asarray(y, np.int64).reshape(-1)
    if len(x) == 0 or len(x) != len(y):
        raise StudioError(f"need as many labels as images, and at least one "
                          f"(got {len(x)} images, {len(y)} labels)")
    return x, y


def evaluate(model, x, y, batch_size: int = 256) -> dict:
    """Accuracy and the (classes × classes) confusion matrix on raw-pixel images."""
    x, y = _inputs(x, y)
    scores = _scores(model, x, batch_size)
    predicted, classes = scores.argmax(axis=-1), int(scores.shape[-1])
    if y.max() >= classes:
        raise StudioError(f"label {int(y.max())} is not one of the model's {classes} classes")
    return {"accuracy": float((predicted == y).mean()),
            "confusion": confusion_matrix(y, predicted, classes)}


def _split(model, name: str):
    """(head, tail, channel axis, feeds the images too) around the cut filters' final maps,
    built once per model and layer; None where the graph cannot be cut there (a layer in a
    nested or subclassed model, an activation that cannot give 0)."""
    with _lock:
        cache = _SPLITS.setdefault(model, {})
        if name in cache:
            return cache[name]
        found = None
        layer = _layer(model, name)
        if name in [lay.name for lay in getattr(model, "layers", [])] and \
                _off_bias(layer.activation) is not None:
            try:
                found = _build_split(model, layer)
            except Exception:             # no symbolic graph to cut
                found = None
        cache[name] = found
        return found


def _build_split(model, layer):
    Model = keras().Model
    point = _split_layer(layer).output
    head = Model(model.inputs, point)
    axis = 1 if getattr(layer, "data_format", "channels_last") == "channels_first" else -1
    try:
        return head, Model(point, model.outputs), axis, False
    except ValueError:                   # a skip connection also needs the images
        return head, Model([*model.inputs, point], model.outputs), axis, True


def rank_filters(model, layer: str, x, y, batch_size: int = 256,
                 progress: Callable[[float], None] | None = None) -> list[tuple[int, float,
                                                                                  float]]:
    """Each filter of ``layer`` by how much accuracy drops without it, largest drop first:
    [(filter, accuracy without it, drop)]. One forward to the layer, then one masked call
    (the maps repeated once per filter, each copy with one channel zeroed) instead of a
    model per filter. ``progress(fraction)`` may raise to cancel."""
    x, y = _inputs(x, y)
    n = filter_count(_layer(model, layer))
    base = evaluate(model, x, y, batch_size)["accuracy"]
    split = _split(model, layer)
    if split is None:
        correct = _rank_by_copies(model, layer, n, x, y, batch_size, progress)
    else:
        correct = _rank_by_masks(split, n, x, y, progress)
    already = set(cuts_of(model).get(layer, []))
    ranked = [(f, float(correct[f] / len(y)), base - float(correct[f] / len(y)))
              for f in range(n)]
    for f in already:                   # off already: switching it off again changes nothing
        ranked[f] = (f, base, 0.0)
    return sorted(ranked, key=lambda r: (-r[2], r[0]))


def _rank_by_masks(split, n: int, x, y, progress) -> np.ndarray:
    head, tail, axis, with_images = split
    correct = np.zeros(n, np.int64)
    per_image = int(np.prod(head.outputs[0].shape[1:]))
    images = max(1, min(len(x), ROWS_PER_CALL // (per_image * n) or 1))
    filters = max(1, min(n, ROWS_PER_CALL // (per_image * images)))
    steps, done = -(-len(x) // images) * -(-n // filters), 0
    for start in range(0, len(x), images):
        xb, yb = x[start:start + images], y[start:start + images]
        maps = np.asarray(head.predict_on_batch(xb))
        for first in range(0, n, filters):
            group = range(first, min(n, first + filters))
            masked = np.repeat(maps[None], len(group), axis=0)        # (g, b, …, C)
            for i, f in enumerate(group):
                np.moveaxis(masked[i], axis, -1)[..., f] = 0.0
            masked = masked.reshape(-1, *maps.shape[1:])
            feed = [np.tile(xb, (len(group),) + (1,) * (xb.ndim - 1)), masked] \
                if with_images else masked
            predicted = np.asarray(tail.predict_on_batch(feed)).argmax(axis=-1)
            hits = (predicted.reshape(len(group), -1) == yb[None]).sum(axis=1)
            correct[first:first + len(group)] += hits
            done += 1
            if progress is not None:
                progress(done / steps)
    return correct


def _rank_by_copies(model, layer: str, n: int, x, y, batch_size, progress) -> np.ndarray:
    """The slow, sure way: one copy, each filter switched off in turn and put back."""
    bench = Workbench(model)
    correct = np.zeros(n, np.int64)
    for f in range(n):
        bench.set_cuts({**bench.start, layer: sorted(set(bench.start.get(layer, [])) | {f})})
        correct[f] = int((_predicted(bench.model, x, batch_size) == y).sum())
        if progress is not None:
            progress((f + 1) / n)
    return correct


class Workbench:
    """A private copy whose filters are switched off and on in place: no new model (and no
    new compiled forward) per click, as a panel needs. ``bench.model`` carries the cuts."""

    def __init__(self, model):
        self.model = copy_model(model)
        self.start = cuts_of(model)          # cuts the given model had: kept as the floor
        self._saved: dict[str, list[np.ndarray]] = {}
        _CUTS[self.model] = dict(self.start)

    def _variables(self, name: str) -> list:
        layer = _layer(self.model, name)
        norm = following_batchnorm(layer)
        return list(layer.weights) + (list(norm.weights) if norm is not None else [])

    def set_cuts(self, cuts: dict) -> dict[str, list[int]]:
        """Exactly these filters off (besides the model's own earlier cuts); the rest back on."""
        clean = _check(self.model, cuts)
        for name in set(self._saved) | set(clean):
            variables = self._variables(name)
            if name not in self._saved:
                self._saved[name] = [_numpy(v) for v in variables]
            for variable, values in zip(variables, self._saved[name], strict=True):
                variable.assign(values)
            _zero(_layer(self.model, name), clean.get(name, []))
        merged = {k: sorted(set(self.start.get(k, [])) | set(clean.get(k, [])))
                  for k in set(self.start) | set(clean)}
        _CUTS[self.model] = {k: v for k, v in merged.items() if v}
        return cuts_of(self.model)


def filter_kernels(model, name: str) -> np.ndarray:
    """A layer's filters as (kh, kw, inputs, filters), the shape the Filters tab draws: a
    depthwise filter as its one input channel, a separable layer by its 1×1 pointwise part,
    a Conv1D as one row, a Conv3D averaged over depth."""
    variable, depthwise = _kernel(_layer(model, name))
    kernel = _numpy(variable)
    if depthwise:                     # (…, in, mult) → filter o = in·mult + m, one channel
        kernel = kernel.reshape(*kernel.shape[:-2], 1, -1)
    if kernel.ndim == 3:
        kernel = kernel[None]
    while kernel.ndim > 4:
        kernel = kernel.mean(axis=0)
    return kernel


# -- keeping the result ---------------------------------------------------------------------
def save_as_run(model, source_run_dir, name: str, runs_root=None, test: dict | None = None,
                cuts: dict | None = None) -> Path:
    """Write ``model`` as a new, finished run beside (or under ``runs_root``): the source's
    config (named ``name``), dataset.json and model.json, the cut model as model.keras, and
    summary.json recording the cuts and where they came from. The source is only read.
    ``test``: what the caller measured, e.g. {"accuracy": 0.9, "images": 500}."""
    from cnnstudio.core.training.rundir import RunDir

    source = RunDir.open(source_run_dir)
    name = str(name).strip()
    if not name:
        raise StudioError("give the new run a name")
    config = source.config()
    config.name = name
    root = Path(runs_root) if runs_root is not None else source.path.parent
    done = (source.read_json("summary.json", {}) or {}).get("epochs_done")
    recorded = cuts if cuts is not None else cuts_of(model)
    return RunDir.write_finished(
        config, root, model,
        {file: source.read_json(file) for file in ("dataset.json", "model.json")},
        {"epochs_done": done, "test": dict(test or {}),
         "surgery": {"source": str(source.path), "cuts": recorded,
                     "filters_cut": sum(len(v) for v in recorded.values())}},
        epoch=done, surgery=True)
