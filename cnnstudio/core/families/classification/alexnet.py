"""AlexNet (Krizhevsky et al. 2012), full size for 227×227 images and a reduced variant for small ones."""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.errors import ModelError
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.model_parts import classifier_head, image_input
from cnnstudio.core.options import Bool, Choice, Float

FULL_MIN = 67   # the smallest side for which the full stack keeps a positive size


def _conv(x, filters, size, name, batch_norm, strides=1, padding="same"):
    layers = keras().layers
    x = layers.Conv2D(filters, size, strides=strides, padding=padding, activation="relu",
                      name=name)(x)
    # The paper's local response normalisation is no longer in Keras; BN is its modern stand-in.
    return layers.BatchNormalization(name=f"{name}_bn")(x) if batch_norm else x


def build_alexnet(input_shape, num_classes, variant="auto", dropout=0.5, batch_norm=False):
    layers = keras().layers
    side = min(input_shape[:2])
    if variant == "auto":
        variant = "full" if side >= FULL_MIN else "reduced"
    if variant == "full" and side < FULL_MIN:
        raise ModelError(f"full AlexNet needs inputs of at least {FULL_MIN}×{FULL_MIN} (227 in "
                         f"the paper), got {input_shape[0]}×{input_shape[1]}; use variant "
                         "'reduced' for small images")
    inputs, x = image_input(input_shape)
    if variant == "full":
        # 227×227: 11×11/4 → 55, pool → 27, 5×5 → 27, pool → 13, 3×3 ×3 → 13, pool → 6.
        x = _conv(x, 96, 11, "conv1", batch_norm, strides=4, padding="valid")
        x = layers.MaxPooling2D(3, 2, name="pool1")(x)
        x = _conv(x, 256, 5, "conv2", batch_norm)
        x = layers.MaxPooling2D(3, 2, name="pool2")(x)
        fc = 4096
    else:
        # Same five-conv shape with 5×5 stride-1 stems and 'same' pools: 32×32 → 4×4 at the top.
        x = _conv(x, 64, 5, "conv1", batch_norm)
        x = layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
        x = _conv(x, 192, 5, "conv2", batch_norm)
        x = layers.MaxPooling2D(3, 2, padding="same", name="pool2")(x)
        fc = 1024
    wide = (384, 384, 256) if variant == "full" else (256, 256, 192)
    for i, filters in enumerate(wide, start=3):
        x = _conv(x, filters, 3, f"conv{i}", batch_norm)
    pad = "valid" if variant == "full" else "same"
    x = layers.MaxPooling2D(3, 2, padding=pad, name="pool5")(x)
    x = layers.Flatten(name="flatten")(x)
    for i in (6, 7):
        x = layers.Dense(fc, activation="relu", name=f"fc{i}")(x)
        x = layers.Dropout(float(dropout), name=f"dropout{i}")(x)
    return keras().Model(inputs, classifier_head(x, num_classes), name=f"alexnet_{variant}")


ALEXNET = Architecture(
    id="alexnet", name="AlexNet",
    description="Five convolutions (11×11 stride 4, 5×5, then three 3×3) with overlapping 3×3 "
                "max-pooling and two 4,096-unit dense layers with 50 % dropout: the network that "
                "won ImageNet 2012 and started the deep-learning era (62.4 million weights at "
                "227×227 with 1,000 classes). Below 67 pixels the reduced variant keeps the same "
                "shape with 5×5 stride-1 stems and 1,024-unit dense layers.",
    source="Krizhevsky, Sutskever & Hinton 2012; Practical CNNs, chapter 4",
    build_fn=build_alexnet,
    specs=(Choice("variant", "auto", ("auto", "full", "reduced"),
                  "auto (by input size), full (227×227) or reduced (small images)"),
           Float("dropout", 0.5, 0.0, 0.95, "dropout after each dense layer"),
           Bool("batch_norm", False, "batch norm after each conv (stands in for the paper's LRN)")),
    min_size=8, preferred_size=227)
