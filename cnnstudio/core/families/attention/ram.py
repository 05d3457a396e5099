"""The Recurrent Attention Model (book chapter 9), task "ram", and the paper's two
baselines on the same canvases, ``fc-256`` and ``conv-2`` (task "classification"), with
``conv-pool``, a stronger conv net than the paper's, for comparison.

Light on purpose: registering them imports no Keras. The RAM's Keras classes live in
``ram_models.py``; its data, compilation, evaluation and glimpse probes in ``ram_task.py``;
the numpy Glimpse Sensor in ``glimpse.py``.
"""

from __future__ import annotations

from cnnstudio.core.errors import ModelError
from cnnstudio.core.families import register_model_module, register_task_module
from cnnstudio.core.families.attention.glimpse import check_sensor
from cnnstudio.core.families.profile import Plot, Profile, Series, register_profile
from cnnstudio.core.models import ARCHITECTURES
from cnnstudio.core.models.base import Architecture

MODELS = "cnnstudio.core.families.attention.ram_models"
# Each glimpse is one unrolled step of the core network and one REINFORCE decision; past
# this the graph is slow to build and the credit for the last answer too thinly spread.
MAX_GLIMPSES = 16

RAM_HELP = {
    "glimpses": f"how many glimpses the model takes before it answers (1–{MAX_GLIMPSES})",
    "patch": "side g of each glimpse patch in pixels (at most the canvas side)",
    "scales": "patches per glimpse: g×g, then 2g×2g, 4g×4g… each shrunk to g×g",
    "scale_ratio": "how much wider each further scale looks (2: doubling)",
    "std": "standard deviation of the Gaussian location policy, in [−1, 1] units",
    "hidden": "size of the core network's state (and of the glimpse vector)",
    "core": "core network: lstm, or rnn (the paper's ReLU recurrent net)",
    "samples": "at test time: 1 looks at the location means; M > 1 averages M sampled runs",
    "patch_net": "the glimpse network's patch pathway: dense (the paper's one layer of 128 "
                 "units) or conv (two small convolutions over the patch, its scales as "
                 "channels, then 128 units: reads a digit's strokes from fewer glimpses)",
    "glimpse_mix": "how the glimpse network joins the patch (\"what\") and location "
                   "(\"where\") pathways: add (the paper's) or multiply (what × where, "
                   "Ba et al. 2015: each feature gated by where it was seen)",
    "hint_epochs": "hybrid start: for this many first epochs the location network is also "
                   "taught to look at the digit (its known centre on the canvas datasets), "
                   "then REINFORCE alone; 0 = pure REINFORCE, as in the paper",
}
RAM_DEFAULTS = {"glimpses": 6, "patch": 12, "scales": 3, "scale_ratio": 2, "std": 0.15,
                "hidden": 256, "core": "lstm", "samples": 1, "hint_epochs": 0,
                "patch_net": "dense", "glimpse_mix": "add"}


# The RAM's string options and the values each accepts: checked here and by the model
# (a .keras file's config), offered by the options form.
RAM_CHOICES = {"core": ("lstm", "rnn"), "patch_net": ("dense", "conv"),
               "glimpse_mix": ("add", "multiply")}


def check_choices(options: dict) -> None:
    """One clear message for a string option of ``RAM_CHOICES`` set to another value."""
    for name, allowed in RAM_CHOICES.items():
        if name in options and options[name] not in allowed:
            raise ModelError(f"{name} must be '{allowed[0]}' or '{allowed[1]}', got "
                             f"{options[name]!r}")


def _int_in(name, value, low, high):
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ModelError(f"{name} must be an integer between {low} and {high}, got {value!r}")


def check_ram(options: dict, input_shape) -> None:
    """One clear message for options the RAM cannot use on images of ``input_shape``."""
    o = {**RAM_DEFAULTS, **options}
    glimpses = o["glimpses"]
    if isinstance(glimpses, int) and not isinstance(glimpses, bool) and glimpses > MAX_GLIMPSES:
        raise ModelError(f"glimpses {glimpses} exceeds the glimpse budget of {MAX_GLIMPSES}: "
                         "each glimpse is one unrolled step of the core network and one "
                         "decision for REINFORCE to credit; use 1 to "
                         f"{MAX_GLIMPSES}")
    _int_in("glimpses", glimpses, 1, MAX_GLIMPSES)
    check_sensor(o["patch"], o["scales"], o["scale_ratio"])
    height, width = (int(s) for s in input_shape[:2])
    if o["patch"] > min(height, width):
        raise ModelError(f"patch {o['patch']} is larger than the {height}×{width} images: a "
                         "glimpse's finest patch must fit inside the canvas; use at most "
                         f"{min(height, width)}")
    std = o["std"]
    if not isinstance(std, (int, float)) or isinstance(std, bool) or not 0 < std <= 1:
        raise ModelError(f"std must be a number in (0, 1], got {std!r}")
    _int_in("hidden", o["hidden"], 8, 4096)
    _int_in("samples", o["samples"], 1, 64)
    _int_in("hint_epochs", o["hint_epochs"], 0, 10_000)
    check_choices(o)


def _build_ram(input_shape, num_classes, **options):
    from cnnstudio.core.families.attention import ram_models

    check_ram(options, input_shape)
    o = {**RAM_DEFAULTS, **options}
    return ram_models.build_ram(input_shape, num_classes, glimpses=o["glimpses"],
                                patch=o["patch"], scales=o["scales"], ratio=o["scale_ratio"],
                                std=float(o["std"]), hidden=o["hidden"], core=o["core"],
                                samples=o["samples"], hint_epochs=o["hint_epochs"],
                                patch_net=o["patch_net"],
                                glimpse_mix=o["glimpse_mix"])


def _build_fc(input_shape, num_classes, units=256, layers=2):
    from cnnstudio.core.models.classic import build_mlp

    _int_in("units", units, 1, 8192)
    _int_in("layers", layers, 1, 8)
    model = build_mlp(input_shape, num_classes, units=units, dropout=0.0, hidden_layers=layers)
    model.name = "fc_256"
    return model


def _build_conv(input_shape, num_classes, filters=8, kernel=10, stride=5, units=256):
    """The paper's conv row ("Convolutional, 2 layers"): one layer of 8 10×10 filters at
    stride 5, then 256 units, ReLU after each (Mnih et al. 2014, section 4.1)."""
    from cnnstudio.core.keras_setup import keras
    from cnnstudio.core.models.classic import classifier_head, image_input

    _int_in("filters", filters, 1, 1024)
    _int_in("kernel", kernel, 1, 64)
    _int_in("stride", stride, 1, 64)
    _int_in("units", units, 1, 8192)
    L = keras().layers
    inputs, x = image_input(input_shape)
    x = L.Conv2D(filters, kernel, strides=stride, padding="same", activation="relu",
                 name="conv1")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(units, activation="relu", name="fc")(x)
    return keras().Model(inputs, classifier_head(x, num_classes), name="conv_2")


def _build_conv_pool(input_shape, num_classes, filters=32):
    from cnnstudio.core.keras_setup import keras
    from cnnstudio.core.models.classic import classifier_head, image_input

    _int_in("filters", filters, 1, 1024)
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
    defaults=dict(RAM_DEFAULTS), options_help=RAM_HELP, task="ram", min_size=2)

FC_256 = Architecture(
    "fc-256", "FC baseline, 2×256 (book ch. 9)",
    "The RAM paper's fully connected baseline: two hidden layers of 256 ReLU units on the "
    "whole canvas.", "Mnih et al. 2014, Table 2", _build_fc,
    defaults={"units": 256, "layers": 2},
    options_help={"units": "units per hidden layer", "layers": "hidden layers"})

CONV_2 = Architecture(
    "conv-2", "Conv baseline, the paper's 2 layers (book ch. 9)",
    "The RAM paper's convolutional baseline on the whole canvas: one layer of 8 10×10 "
    "filters at stride 5, then a layer of 256 units, ReLU after each (its \"Convolutional, "
    "2 layers\" row).", "Mnih et al. 2014, section 4.1 and Table 2", _build_conv,
    defaults={"filters": 8, "kernel": 10, "stride": 5, "units": 256},
    options_help={"filters": "filters of the convolution", "kernel": "their side in pixels",
                  "stride": "the convolution's stride", "units": "units of the dense layer"},
    min_size=10)

CONV_POOL = Architecture(
    "conv-pool", "Conv baseline, 2 conv + pooling (stronger than the paper's)",
    "A modern convolutional baseline on the whole canvas: two 5×5 convolution layers with "
    "max pooling and a 256-unit layer. It reads every pixel at full resolution, so under "
    "a CPU budget it beats both the paper's conv row and the RAM on cluttered canvases.",
    "the studio; compare Mnih et al. 2014, Table 2", _build_conv_pool,
    defaults={"filters": 32}, options_help={"filters": "filters of the first layer (doubled "
                                                       "in the second)"}, min_size=8)

for _arch in (RAM, FC_256, CONV_2, CONV_POOL):
    ARCHITECTURES.register(_arch.id, _arch)

RAM_PROFILE = register_profile(Profile(
    "ram", "attention",
    (Plot("Loss (lower is better)", (Series("loss", "loss"), Series("ce", "cross-entropy")),
          log_y=True),
     Plot("Accuracy (higher is better)", (Series("accuracy", "accuracy"),), y_range=(0, 1)),
     Plot("REINFORCE", (Series("reward", "mean reward"),
                        Series("baseline_loss", "baseline error")), validation=False)),
    prediction="glimpse"))

register_model_module(MODELS)
register_task_module("cnnstudio.core.families.attention.ram_task")
