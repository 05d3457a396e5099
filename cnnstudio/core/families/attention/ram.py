"""The Recurrent Attention Model (book chapter 9), task "ram", and the paper's two
baselines on the same canvases, ``fc-256`` and ``conv-2`` (task "classification"), with
``conv-pool``, a stronger conv net than the paper's, for comparison.

Light on purpose: registering them imports no Keras. The RAM's Keras classes live in
``ram_models.py``; its data, compilation, evaluation and glimpse probes in ``ram_task.py``;
the numpy Glimpse Sensor in ``glimpse.py``.
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.errors import ModelError
from cnnstudio.core.families.attention.ram_options import RAM_SPECS
from cnnstudio.core.families.profile import Plot, Profile, Series
from cnnstudio.core.options import Int, OptionSet

MODELS = "cnnstudio.core.families.attention.ram_models"

RAM_OPTIONS = OptionSet(RAM_SPECS)
RAM_DEFAULTS = RAM_OPTIONS.defaults


def check_ram(options: dict, input_shape) -> None:
    """One clear message for options the RAM cannot use on images of ``input_shape`` (the
    ranges of each option are its spec's, checked before this)."""
    o = {**RAM_DEFAULTS, **options}
    height, width = (int(s) for s in input_shape[:2])
    if o["patch"] > min(height, width):
        raise ModelError(f"patch {o['patch']} is larger than the {height}×{width} images: a "
                         "glimpse's finest patch must fit inside the canvas; use at most "
                         f"{min(height, width)}")


def _build_ram(input_shape, num_classes, **options):
    from cnnstudio.core.families.attention import ram_models

    check_ram(options, input_shape)
    o = RAM_OPTIONS.resolve(options)
    return ram_models.build_ram(input_shape, num_classes, glimpses=o["glimpses"],
                                patch=o["patch"], scales=o["scales"], ratio=o["scale_ratio"],
                                std=float(o["std"]), hidden=o["hidden"], core=o["core"],
                                samples=o["samples"], hint_epochs=o["hint_epochs"],
                                patch_net=o["patch_net"],
                                glimpse_mix=o["glimpse_mix"])


def _build_fc(input_shape, num_classes, units=256, layers=2):
    from cnnstudio.core.model_parts import build_mlp

    model = build_mlp(input_shape, num_classes, units=units, dropout=0.0, hidden_layers=layers)
    model.name = "fc_256"
    return model


def _build_conv(input_shape, num_classes, filters=8, kernel=10, stride=5, units=256):
    """The paper's conv row ("Convolutional, 2 layers"): one layer of 8 10×10 filters at
    stride 5, then 256 units, ReLU after each (Mnih et al. 2014, section 4.1)."""
    from cnnstudio.core.keras_setup import keras
    from cnnstudio.core.model_parts import classifier_head, image_input

    L = keras().layers
    inputs, x = image_input(input_shape)
    x = L.Conv2D(filters, kernel, strides=stride, padding="same", activation="relu",
                 name="conv1")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(units, activation="relu", name="fc")(x)
    return keras().Model(inputs, classifier_head(x, num_classes), name="conv_2")


def _build_conv_pool(input_shape, num_classes, filters=32):
    from cnnstudio.core.keras_setup import keras
    from cnnstudio.core.model_parts import classifier_head, image_input

    L = keras().layers
    inputs, x = image_input(input_shape)
    # Strided pooling keeps the dense head small on 60×60 and 100×100 canvases.
    x = L.Conv2D(filters, 5, padding="same", activation="relu", name="conv1")(x)
    x = L.MaxPooling2D(2, name="pool1")(x)
    x = L.Conv2D(2 * filters, 5, padding="same", activation="relu", name="conv2")(x)
    x = L.MaxPooling2D(4, name="pool2")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(256, activation="relu", name="fc")(x)
    return keras().Model(inputs, classifier_head(x, num_classes), name="conv_pool")


RAM = Architecture(
    "ram", "Recurrent Attention Model (book ch. 9)",
    "Mnih et al.'s RAM: a Glimpse Sensor reads a few multi-resolution patches, an LSTM "
    "core decides where to look next (a Gaussian policy trained with REINFORCE) and "
    "classifies after the last glimpse.",
    "Mnih, Heess, Graves & Kavukcuoglu 2014; the book's chapter 9", _build_ram,
    specs=RAM_SPECS, task="ram", min_size=2)

FC_256 = Architecture(
    "fc-256", "FC baseline, 2×256 (book ch. 9)",
    "The RAM paper's fully connected baseline: two hidden layers of 256 ReLU units on the "
    "whole canvas.", "Mnih et al. 2014, Table 2", _build_fc,
    specs=(Int("units", 256, 1, 8192, "units per hidden layer"),
           Int("layers", 2, 1, 8, "hidden layers")))

CONV_2 = Architecture(
    "conv-2", "Conv baseline, the paper's 2 layers (book ch. 9)",
    "The RAM paper's convolutional baseline on the whole canvas: one layer of 8 10×10 "
    "filters at stride 5, then a layer of 256 units, ReLU after each (its \"Convolutional, "
    "2 layers\" row).", "Mnih et al. 2014, section 4.1 and Table 2", _build_conv,
    specs=(Int("filters", 8, 1, 1024, "filters of the convolution"),
           Int("kernel", 10, 1, 64, "their side in pixels", unit="px"),
           Int("stride", 5, 1, 64, "the convolution's stride"),
           Int("units", 256, 1, 8192, "units of the dense layer")),
    min_size=10)

CONV_POOL = Architecture(
    "conv-pool", "Conv baseline, 2 conv + pooling (stronger than the paper's)",
    "A modern convolutional baseline on the whole canvas: two 5×5 convolution layers with "
    "max pooling and a 256-unit layer. It reads every pixel at full resolution, so under "
    "a CPU budget it beats both the paper's conv row and the RAM on cluttered canvases.",
    "the studio; compare Mnih et al. 2014, Table 2", _build_conv_pool,
    specs=(Int("filters", 32, 1, 1024, "filters of the first layer (doubled in the second)"),),
    min_size=8)


RAM_PROFILE = Profile(
    "ram", "attention",
    (Plot("Loss (lower is better)", (Series("loss", "loss"), Series("ce", "cross-entropy")),
          log_y=True),
     Plot("Accuracy (higher is better)", (Series("accuracy", "accuracy"),), y_range=(0, 1)),
     Plot("REINFORCE", (Series("reward", "mean reward"),
                        Series("baseline_loss", "baseline error")), validation=False)),
    prediction="glimpse",
    resume_note="a resumed RAM run matches an uninterrupted one closely but not always to "
                "the bit: on a busy machine two runs of the same seed have come out 5e-3 "
                "apart (a race, not yet found)")

