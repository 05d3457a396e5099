"""GoogLeNet / Inception v1 (Szegedy et al. 2014): inception modules with 1×1 reductions.

With ``aux=True`` the paper's two auxiliary classifiers hang off inception 4a and 4d.
They only shape training: each ``AuxiliaryClassifier`` layer passes its input through
unchanged and, in training calls only, computes its softmax; ``GoogLeNet.compute_loss``
adds 0.3 × its cross-entropy to the main loss. Inference, ``model.outputs`` and the
saved file keep the single main softmax, so predict and evaluation need nothing new.
"""

from __future__ import annotations

import functools

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.model_parts import classifier_head, image_input
from cnnstudio.core.options import Bool, Choice, Float

# (1×1, 3×3 reduce, 3×3, 5×5 reduce, 5×5, pool projection) per module, as in the paper's table 1.
MODULES = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}
SMALL_STEM_BELOW = 96   # the ImageNet stem divides by 8 before the first module
AUX_WEIGHT = 0.3        # the paper's discount on each auxiliary classifier's loss


@functools.cache
def custom_objects() -> dict:
    """Define and register the auxiliary-classifier classes (once, on first use).

    Lazy, like the transfer family's, so importing the registry does not import Keras;
    call it before loading a saved GoogLeNet that has auxiliary heads.
    """
    k = keras()
    L = k.layers

    @k.saving.register_keras_serializable(package="cnnstudio")
    class AuxiliaryClassifier(L.Layer):
        """The paper's side classifier: 5×5/3 average pool, 1×1 conv 128, FC 1024,
        dropout 0.7, softmax. Returns its input; its prediction is kept for the loss."""

        def __init__(self, num_classes, filters=128, units=1024, pool_size=5, dropout=0.7,
                     **kwargs):
            super().__init__(**kwargs)
            self.num_classes, self.filters, self.units = int(num_classes), int(filters), int(units)
            self.pool_size, self.dropout = int(pool_size), float(dropout)
            self.pool = L.AveragePooling2D(self.pool_size, 3, name="pool")
            self.conv = L.Conv2D(self.filters, 1, activation="relu", name="conv")
            self.flatten = L.Flatten(name="flatten")
            self.fc = L.Dense(self.units, activation="relu", name="fc")
            self.drop = L.Dropout(self.dropout, name="dropout")
            self.out = L.Dense(self.num_classes, activation="softmax", dtype="float32",
                               name="predictions")
            self.prediction = None

        def build(self, input_shape):
            # Every weight exists before loading: a saved file's weights need somewhere to go.
            shape = self.pool.compute_output_shape(input_shape)
            self.conv.build(shape)
            shape = self.conv.compute_output_shape(shape)
            self.fc.build((shape[0], shape[1] * shape[2] * shape[3]))
            self.out.build((shape[0], self.units))

        def head(self, x, training=None):
            x = self.flatten(self.conv(self.pool(x)))
            return self.out(self.drop(self.fc(x), training=training))

        def call(self, x, training=None):
            # Only training pays for the head; inference sees a pass-through.
            self.prediction = self.head(x, training=True) if training else None
            return x

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "num_classes": self.num_classes,
                    "filters": self.filters, "units": self.units,
                    "pool_size": self.pool_size, "dropout": self.dropout}

    @k.saving.register_keras_serializable(package="cnnstudio")
    class GoogLeNet(k.Model):
        """A functional GoogLeNet whose training loss includes its auxiliary classifiers."""

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                         training=True):
            loss = super().compute_loss(x, y, y_pred, sample_weight, training=training)
            if not training:
                return loss
            cross_entropy = k.losses.SparseCategoricalCrossentropy()
            for layer in self.layers:
                pred = getattr(layer, "prediction", None)
                if isinstance(layer, AuxiliaryClassifier) and pred is not None:
                    loss = loss + AUX_WEIGHT * cross_entropy(y, pred, sample_weight)
            return loss

    return {"AuxiliaryClassifier": AuxiliaryClassifier, "GoogLeNet": GoogLeNet}


def auxiliary(x, num_classes, name, width=1.0):
    """Attach an auxiliary classifier to ``x`` (pool shrinks to fit maps under 5×5)."""
    side = min(int(x.shape[1]), int(x.shape[2]))
    layer = custom_objects()["AuxiliaryClassifier"](
        num_classes, max(1, round(128 * width)), max(1, round(1024 * width)),
        pool_size=min(5, side), name=name)
    return layer(x)


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


def build_googlenet(input_shape, num_classes, stem="auto", width=1.0, dropout=0.4, aux=False):
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
        if _flag(aux) and name in ("4a", "4d"):
            x = auxiliary(x, num_classes, f"aux_{name}", width)
    x = layers.MaxPooling2D(3, 2, padding="same", name="pool4")(x)
    for name in ("5a", "5b"):
        x = inception(x, MODULES[name], f"inception_{name}", width)
    # Global average pooling replaces VGG's huge dense layers: 1,024 numbers per image.
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(float(dropout), name="dropout")(x)
    outputs = classifier_head(x, num_classes)
    if _flag(aux):
        return custom_objects()["GoogLeNet"](inputs, outputs, name="googlenet")
    return keras().Model(inputs, outputs, name="googlenet")


def _flag(value) -> bool:
    """Options may arrive as text from the CLI ('aux=true')."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


GOOGLENET = Architecture(
    id="googlenet", name="GoogLeNet (Inception v1)",
    description="Nine inception modules, each running 1×1, 3×3 and 5×5 convolutions and a "
                "pooling branch side by side and concatenating them; 1×1 'reduce' convolutions "
                "shrink the channels before the expensive filters, and global average pooling "
                "replaces the dense layers, so 22 layers need only about 7 million weights "
                "(VGG16: 138 million). Below 96 pixels a single 3×3 stem replaces the "
                "ImageNet stem. The paper's two auxiliary classifiers (after 4a and 4d, "
                "each loss weighted 0.3) are an option that helps gradients reach the "
                "early layers; they are used only in training.",
    source="Szegedy et al. 2014, 'Going deeper with convolutions'; Practical CNNs, chapter 4",
    build_fn=build_googlenet,
    specs=(Choice("stem", "auto", ("auto", "imagenet", "small"),
                  "auto, imagenet (7×7 stride 2, for ≥96 px) or small (3×3, no striding)"),
           Float("width", 1.0, 0.05, 4.0, "multiplier on every filter count (0.25 trains fast "
                 "on a CPU)"),
           Float("dropout", 0.4, 0.0, 0.95, "dropout before the output (paper: 0.4)"),
           Bool("aux", False, "auxiliary classifiers after 4a and 4d, training only (paper: on)")),
    min_size=8, preferred_size=224)
