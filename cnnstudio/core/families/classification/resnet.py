"""ResNet (He et al. 2015): basic (18, 34) and bottleneck (50) residual blocks."""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.model_parts import classifier_head, image_input
from cnnstudio.core.options import Choice, Int

DEPTHS = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)),
          50: ("bottleneck", (3, 4, 6, 3))}
SMALL_STEM_BELOW = 96


def _conv_bn(x, filters, size, name, strides=1, relu=True):
    layers = keras().layers
    # No conv bias: the following batch norm's beta does that job (as in the paper's code).
    x = layers.Conv2D(filters, size, strides=strides, padding="same", use_bias=False,
                      name=f"{name}_conv")(x)
    x = layers.BatchNormalization(epsilon=1.001e-5, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x) if relu else x


def _shortcut(x, filters, strides, name):
    if strides == 1 and x.shape[-1] == filters:
        return x   # identity: the block only has to learn the residual
    return _conv_bn(x, filters, 1, f"{name}_proj", strides=strides, relu=False)


def basic_block(x, filters, strides, name):
    shortcut = _shortcut(x, filters, strides, name)
    y = _conv_bn(x, filters, 3, f"{name}_1", strides=strides)
    y = _conv_bn(y, filters, 3, f"{name}_2", relu=False)
    y = keras().layers.Add(name=f"{name}_add")([shortcut, y])
    return keras().layers.Activation("relu", name=f"{name}_out")(y)


def bottleneck_block(x, filters, strides, name):
    shortcut = _shortcut(x, filters * 4, strides, name)
    y = _conv_bn(x, filters, 1, f"{name}_1")                       # 1×1 reduce
    y = _conv_bn(y, filters, 3, f"{name}_2", strides=strides)      # 3×3 at low width
    y = _conv_bn(y, filters * 4, 1, f"{name}_3", relu=False)       # 1×1 expand
    y = keras().layers.Add(name=f"{name}_add")([shortcut, y])
    return keras().layers.Activation("relu", name=f"{name}_out")(y)


def build_resnet(input_shape, num_classes, depth=18, stem="auto", base_filters=64):
    layers = keras().layers
    kind, repeats = DEPTHS[depth]
    block = basic_block if kind == "basic" else bottleneck_block
    if stem == "auto":
        stem = "imagenet" if min(input_shape[:2]) >= SMALL_STEM_BELOW else "small"
    inputs, x = image_input(input_shape)
    f = int(base_filters)
    if stem == "imagenet":
        x = _conv_bn(x, f, 7, "conv1", strides=2)
        x = layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
    else:   # CIFAR-style stem from the paper's section 4.2
        x = _conv_bn(x, f, 3, "conv1")
    for stage, n in enumerate(repeats):
        for i in range(n):
            strides = 2 if stage > 0 and i == 0 else 1
            x = block(x, f * 2 ** stage, strides, f"conv{stage + 2}_block{i + 1}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras().Model(inputs, classifier_head(x, num_classes), name=f"resnet{depth}")


RESNET = Architecture(
    id="resnet", name="ResNet (18, 34, 50)",
    description="Residual networks: each block adds its input back to its output, so it only "
                "learns a correction and gradients flow straight through the shortcut — which "
                "is what lets 50 layers train better than 20. Depths 18 and 34 use basic blocks "
                "(two 3×3 convolutions); 50 uses bottleneck blocks (1×1 reduce, 3×3, 1×1 "
                "expand). Batch norm follows every convolution; global average pooling ends it.",
    source="He, Zhang, Ren & Sun 2015, 'Deep residual learning'; Practical CNNs, chapter 4",
    build_fn=build_resnet,
    specs=(Choice("depth", 18, (18, 34, 50), "18 or 34 (basic blocks) or 50 (bottleneck blocks)"),
           Choice("stem", "auto", ("auto", "imagenet", "small"),
                  "auto, imagenet (7×7 stride 2 + pool, for ≥96 px) or small (3×3)"),
           Int("base_filters", 64, 1, 1024, "filters of the first stage, doubled each stage "
               "(paper: 64)", step=8)),
    min_size=8, preferred_size=224)
