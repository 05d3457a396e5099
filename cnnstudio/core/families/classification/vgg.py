"""VGG16 (Simonyan & Zisserman 2014) and a small VGG-style network for 32×32 images."""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.model_parts import classifier_head, image_input
from cnnstudio.core.options import Bool, Float, Int

VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
SMALL_BLOCKS = ((32, 2), (64, 2), (128, 2))


def _vgg_blocks(x, blocks, batch_norm, dropout=0.0):
    layers = keras().layers
    for b, (filters, convs) in enumerate(blocks, start=1):
        for c in range(1, convs + 1):
            name = f"block{b}_conv{c}"
            if batch_norm:   # VGG-BN: conv → BN → ReLU
                x = layers.Conv2D(filters, 3, padding="same", name=name)(x)
                x = layers.BatchNormalization(name=f"{name}_bn")(x)
                x = layers.Activation("relu", name=f"{name}_relu")(x)
            else:
                x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=name)(x)
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
        if dropout:
            x = layers.Dropout(float(dropout), name=f"block{b}_dropout")(x)
    return x


def build_vgg16(input_shape, num_classes, fc_units=4096, dropout=0.5, batch_norm=False):
    layers = keras().layers
    inputs, x = image_input(input_shape)
    # Layer names follow keras.applications.VGG16, so the layer table reads the same.
    x = _vgg_blocks(x, VGG16_BLOCKS, batch_norm)
    x = layers.Flatten(name="flatten")(x)
    for i in (1, 2):
        x = layers.Dense(int(fc_units), activation="relu", name=f"fc{i}")(x)
        if dropout:
            x = layers.Dropout(float(dropout), name=f"dropout{i}")(x)
    return keras().Model(inputs, classifier_head(x, num_classes), name="vgg16")


def build_vgg_small(input_shape, num_classes, fc_units=256, dropout=0.3, batch_norm=True):
    layers = keras().layers
    inputs, x = image_input(input_shape)
    x = _vgg_blocks(x, SMALL_BLOCKS, batch_norm, dropout=dropout / 2)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(int(fc_units), activation="relu", name="fc1")(x)
    x = layers.Dropout(float(dropout), name="dropout1")(x)
    return keras().Model(inputs, classifier_head(x, num_classes), name="vgg_small")


VGG16 = Architecture(
    id="vgg16", name="VGG16",
    description="Thirteen 3×3 convolutions in five blocks (64 to 512 filters), each block ending "
                "in 2×2 max-pooling, then two 4,096-unit dense layers: VGG's point is that a "
                "stack of small filters sees as far as one large filter with fewer weights. At "
                "224×224 with 1,000 classes it has 138,357,544 weights, 90 % of them in the "
                "dense layers. The book uses it in chapters 4 and 5.",
    source="Simonyan & Zisserman 2014; Practical CNNs, chapters 4–5", build_fn=build_vgg16,
    specs=(Int("fc_units", 4096, 1, 16384, "units of each dense layer (paper: 4096)", step=256),
           Float("dropout", 0.5, 0.0, 0.95, "dropout after each dense layer"),
           Bool("batch_norm", False, "VGG16-BN: batch norm after every convolution")),
    min_size=32, preferred_size=224)

VGG_SMALL = Architecture(
    id="vgg-small", name="VGG-style CNN for 32×32",
    description="VGG's recipe scaled to CIFAR-sized images: three blocks of two 3×3 "
                "convolutions (32, 64, 128 filters) with batch norm, max-pooling and dropout, "
                "then one 256-unit dense layer. Trains on a CPU in minutes.",
    source="After Simonyan & Zisserman 2014; Practical CNNs, chapter 4",
    build_fn=build_vgg_small,
    specs=(Int("fc_units", 256, 1, 8192, "units of the dense layer", step=32),
           Float("dropout", 0.3, 0.0, 0.95, "dropout before the output (half of it after each block)"),
           Bool("batch_norm", True, "batch norm after every convolution")),
    min_size=8, preferred_size=32)
