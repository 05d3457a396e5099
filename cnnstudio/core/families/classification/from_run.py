"""Train further from another run's model: fine-tune an imported Teachable Machine model.

    cnnstudio import-tm keras_model.h5 labels.txt            # prints RUN
    cnnstudio train --dataset ~/photos --model from-run --model-option run=RUN --epochs 3

The ``from-run`` architecture loads the run's model.keras (its weights are the start) for
a dataset of the same image size. When the dataset has the run's classes (in any order),
the output layer keeps its weights, its columns put in the dataset's order; other classes
get a new output layer. ``train`` picks what learns: ``head`` (the layers after the last
convolution; the base's features stay as they are) or ``all`` (batch norm statistics stay
frozen, as in the transfer family's fine-tuning).
"""

from __future__ import annotations

from pathlib import Path

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.errors import ModelError, StudioError
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.options import Choice, Text

TRAIN = ("head", "all")
SOURCE_NAMES = "_cnnstudio_source_classes"     # set on the built model, read by the task


def _source(run: str):
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.training.rundir import RunDir

    if not str(run or "").strip():
        raise ModelError("from-run needs the option run: the folder of the run to start from "
                         "(e.g. one that 'cnnstudio import-tm' printed)")
    try:
        folder = RunDir.open(run)
    except StudioError as exc:
        raise ModelError(f"from-run: {exc}") from None
    if not (folder.path / "model.keras").is_file():
        raise ModelError(f"from-run: run {folder.path.name} has no finished model "
                         "(model.keras); let it finish, or pick another run")
    names = list(folder.read_json("dataset.json", {}).get("class_names") or [])
    return load_model_file(folder.path / "model.keras"), names, Path(folder.path).name


def new_output(model, num_classes: int):
    """``model`` with its final Dense+softmax replaced by a fresh one for ``num_classes``."""
    from cnnstudio.core.probes.nested_layers import Taps, last_softmax_dense

    last = last_softmax_dense(model)
    if last is None:
        raise ModelError(f"from-run: {model.name} does not end in a softmax Dense layer, so "
                         "its output cannot be replaced for other classes")
    flat = Taps(model, inputs={"features": last}).model
    k = keras()
    out = k.layers.Dense(num_classes, activation="softmax", dtype="float32",
                         name="new_predictions")(flat.outputs[0])
    return k.Model(flat.inputs[0], out, name=f"{model.name}_new_head")


def set_trainable(model, train: str) -> int:
    """Freeze per ``train``; returns how many weighted layers learn."""
    from cnnstudio.core.probes.filters import CONV_TYPES
    from cnnstudio.core.probes.nested_layers import is_nested, walk

    leaves = [layer for _, layer in walk(model) if not is_nested(layer)]
    convs = [i for i, layer in enumerate(leaves) if type(layer).__name__ in CONV_TYPES]
    first = convs[-1] + 1 if train == "head" and convs else 0
    learning = 0
    for i, layer in enumerate(leaves):
        is_bn = isinstance(layer, keras().layers.BatchNormalization)
        layer.trainable = i >= first and not is_bn
        learning += bool(layer.trainable and layer.weights)
    return learning


def build_from_run(input_shape, num_classes, run="", train="head"):
    model, names, label = _source(run)
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    if shape != tuple(input_shape):
        raise ModelError(f"from-run: run {label} takes {shape[0]}×{shape[1]}×{shape[2]} "
                         f"images, the dataset gives {'×'.join(map(str, input_shape))}; set "
                         f"the dataset options image_size={shape[0]} channels={shape[2]}")
    if int(model.outputs[0].shape[-1]) != num_classes:
        model, names = new_output(model, num_classes), []
    set_trainable(model, train)
    setattr(model, SOURCE_NAMES, names)
    return model


FROM_RUN = Architecture(
    id="from-run", name="Start from a run (fine-tune)",
    description="Another run's model (a finished run, or a Teachable Machine model opened "
                "with 'Open Teachable Machine model…') trained further on this dataset. "
                "The dataset's images must be the run's size; its classes may come in any "
                "order, and other classes get a new output layer.",
    source="the run folder's model.keras",
    build_fn=build_from_run, task="from-run",
    specs=(Text("run", "", "the run folder to start from"),
           Choice("train", "head", TRAIN, "head (the layers after the last convolution) "
                                          "or all (batch norm stays frozen)")),
    min_size=8, preferred_size=224)
