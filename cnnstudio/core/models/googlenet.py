"""GoogLeNet / Inception v1 (Szegedy et al. 2014): inception modules with 1×1 reductions."""

from __future__ import annotations

from cnnstudio.core.keras_setup import keras
from cnnstudio.core.models.base import Architecture
from cnnstudio.core.models.classic import classifier_head, image_input

# (1×1, 3×3 reduce, 3×3, 5×5 reduce, 5×5, pool projection) per module, as in the paper's table 1.
MODULES = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}
SMALL_STEM_BELOW = 96   # the ImageNet stem divides by 8 before the first module


def _conv(x, filters, size, name, strides=1):
    return keras().layers.Conv2D(filters, size, strides=strides, padding="same",
                                 activation="relu", name=name)(x)


def inception(x, spec, name, width=1.0):
    """Four parallel branches concatenated; the 1×1 'reduce' convs keep the 3×3/5×5 ones cheap."""
    f = [max(1, round(n * width)) for n in spec]
    b1 = _conv(x, f[0], 1, f"{name}_1x1")
    b2 = _conv(_conv(x, f[1], 1, f"{name}_3x3_reduce"), f[2], 3, f"{name}_3x3")
    b3 = _conv(_conv(x, f[3], 1, f"{name}_5x5_reduce"), f[4], 5, f"{name}_5x5")
    b4 = keras().layers.MaxPooling2D(3, 1, padding="same", name=f"{name}_pool")(x)
    b4 = _conv(b4, f[5], 1, f"{name}_pool_proj")
    return keras().layers.Concatenate(name=f"{name}_output")([b1, b2, b3, b4])


def build_googlenet(input_shape, num_classes, stem="auto", width=1.0, dropout=0.4):
    layers = keras().layers
    width = float(width)
    w = lambda n: max(1, round(n * width))   # noqa: E731
    if stem == "auto":
        stem = "imagenet" if min(input_shape[:2]) >= SMALL_STEM_BELOW else "small"
    inputs, x = image_input(input_shape)
    if stem == "imagenet":
        x = _conv(x, w(64), 7, "conv1_7x7", strides=2)
        x = layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
        x = _conv(x, w(64), 1, "conv2_3x3_reduce")
        x = _conv(x, w(192), 3, "conv2_3x3")
        x = layers.MaxPooling2D(3, 2, padding="same", name="pool2")(x)
    else:   # small images: keep full resolution into the first module
        x = _conv(x, w(192), 3, "conv1_3x3")
    for name in ("3a", "3b"):
        x = inception(x, MODULES[name], f"inception_{name}", width)
    x = layers.MaxPooling2D(3, 2, padding="same", name="pool3")(x)
    for name in ("4a", "4b", "4c", "4d", "4e"):
        x = inception(x, MODULES[name], f"inception_{name}", width)
    x = layers.MaxPooling2D(3, 2, padding="same", name="pool4")(x)
    for name in ("5a", "5b"):
        x = inception(x, MODULES[name], f"inception_{name}", width)
    # Global average pooling replaces VGG's huge dense layers: 1,024 numbers per image.
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(float(dropout), name="dropout")(x)
    return keras().Model(inputs, classifier_head(x, num_classes), name="googlenet")


GOOGLENET = Architecture(
    id="googlenet", name="GoogLeNet (Inception v1)",
    description="Nine inception modules, each running 1×1, 3×3 and 5×5 convolutions and a "
                "pooling branch side by side and concatenating them; 1×1 'reduce' convolutions "
                "shrink the channels before the expensive filters, and global average pooling "
                "replaces the dense layers, so 22 layers need only about 7 million weights "
                "(VGG16: 138 million). Below 96 pixels a single 3×3 stem replaces the "
                "ImageNet stem.",
    source="Szegedy et al. 2014, 'Going deeper with convolutions'; Practical CNNs, chapter 4",
    build_fn=build_googlenet, defaults={"stem": "auto", "width": 1.0, "dropout": 0.4},
    options_help={"stem": "auto, imagenet (7×7 stride 2, for ≥96 px) or small (3×3, no striding)",
                  "width": "multiplier on every filter count (0.25 trains fast on a CPU)",
                  "dropout": "dropout before the output (paper: 0.4)"},
    min_size=8, preferred_size=224)
