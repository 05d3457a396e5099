"""Transfer learning (chapter 5): a keras.applications base with a new classification head.

The book's four cases are one option, ``mode``:
  feature-extraction  frozen base, new head; the transfer task caches the base's
                      bottleneck features once, so the head trains in seconds (DogVGG16)
  fine-tune-top       the top ``top_n`` blocks of the base train with the head
  fine-tune-all       every layer trains (batch norm stays in inference mode)
  scratch             the same network from random weights
ImageNet weights download on demand into ~/.keras/models; offline, a clear ModelError.
"""

from __future__ import annotations

import functools
import re

from cnnstudio.core.errors import ModelError
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.models.base import Architecture

MODES = ("feature-extraction", "fine-tune-top", "fine-tune-all", "scratch")
# id → (keras.applications name, preprocessing mode, smallest side, block-name pattern)
BASES = {
    "vgg16": ("VGG16", "caffe", 32, r"^(block\d+)_"),
    "resnet50": ("ResNet50", "caffe", 32, r"^(conv\d+_block\d+|conv\d+)_"),
    "mobilenetv2": ("MobileNetV2", "tf", 32, r"^(block_\d+|Conv_1|expanded_conv)"),
    "inceptionv3": ("InceptionV3", "tf", 75, r"^mixed(\d+)$"),   # ends a block, see below
    "efficientnetb0": ("EfficientNetB0", "none", 32, r"^(block\d+[a-z]|top)_"),
}
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@functools.cache
def custom_objects() -> dict:
    """Define and register the transfer family's Keras classes (once, on first use).

    Call before loading a saved transfer model; defined lazily so that importing the
    architecture registry does not import Keras.
    """
    @keras().saving.register_keras_serializable(package="cnnstudio")
    class ImagenetPreprocess(keras().layers.Layer):
        """The base's own ``preprocess_input`` as a saveable layer: raw 0–255 RGB in."""

        def __init__(self, mode="caffe", **kwargs):
            super().__init__(**kwargs)
            self.mode = mode

        def call(self, x):
            ops = keras().ops
            x = ops.cast(x, "float32")
            if self.mode == "caffe":   # RGB → BGR, minus the ImageNet channel means
                x = ops.flip(x, axis=-1)
                return x - ops.convert_to_tensor(CAFFE_MEAN_BGR, dtype="float32")
            if self.mode == "tf":
                return x / 127.5 - 1.0
            return x   # EfficientNet rescales inside the application itself

        def get_config(self):
            return {**super().get_config(), "mode": self.mode}

    @keras().saving.register_keras_serializable(package="cnnstudio")
    class TransferClassifier(keras().Model):
        """base → head. Given images it runs both; given rank-2 features it runs the head alone,
        which is how cached bottleneck features train the head through plain ``fit``."""

        def __init__(self, base, head, mode="feature-extraction", **kwargs):
            super().__init__(**kwargs)
            self.base, self.head, self.mode = base, head, mode
            self.built = True

        def call(self, inputs, training=False):
            if len(inputs.shape) == 2:
                return self.head(inputs, training=training)
            # Keras's transfer guide: a pretrained base keeps batch norm in inference mode.
            features = self.base(inputs, training=training and self.mode == "scratch")
            return self.head(features, training=training)

        def get_config(self):
            ser = keras().saving.serialize_keras_object
            return {**super().get_config(), "base": ser(self.base), "head": ser(self.head),
                    "mode": self.mode}

        @classmethod
        def from_config(cls, config):
            des = keras().saving.deserialize_keras_object
            config = dict(config)
            base, head = des(config.pop("base")), des(config.pop("head"))
            return cls(base, head, **config)

    return {"ImagenetPreprocess": ImagenetPreprocess, "TransferClassifier": TransferClassifier}


def _application(base_id, shape, weights):
    name, _, _, _ = BASES[base_id]
    factory = getattr(keras().applications, name)
    try:
        return factory(include_top=False, weights=weights, input_shape=shape, pooling="avg")
    except Exception as exc:   # keras.utils.get_file raises a bare Exception when offline
        if weights != "imagenet":
            raise
        reason = str(exc).splitlines()[0][:160]
        raise ModelError(
            f"the ImageNet weights for {name} are not on this computer and could not be "
            f"downloaded ({reason}); connect to the internet once (they are kept in "
            "~/.keras/models), or set the option weights to 'none'") from None


def block_names(model, base_id) -> list[str]:
    """Each weighted layer's block, in order: 'block5' for VGG16, 'conv5_block3' for ResNet50…"""
    pattern, current, keys = re.compile(BASES[base_id][3]), "stem", []
    for layer in model.layers:
        match = pattern.match(layer.name)
        if base_id == "inceptionv3":   # 'mixedN' concatenates module N: it closes the block
            keys.append("mixed0" if current == "stem" else current)
            current = f"mixed{int(match.group(1)) + 1}" if match else keys[-1]
            continue
        current = match.group(1) if match else current
        keys.append(current)
    return keys


def set_trainable(app, base_id, mode, top_n):
    """Freeze or unfreeze the base for the chosen case; returns the unfrozen block names."""
    if mode in ("fine-tune-all", "scratch"):
        app.trainable = True
        return sorted(set(block_names(app, base_id)))
    if mode == "feature-extraction":
        app.trainable = False
        return []
    keys = block_names(app, base_id)
    # Blocks in order, counting only those with weights (a trailing pool is no block).
    ordered = list(dict.fromkeys(k for layer, k in zip(app.layers, keys, strict=True)
                                 if layer.weights and k != "stem"))
    top = set(ordered[-int(top_n):]) if int(top_n) > 0 else set()
    for layer, key in zip(app.layers, keys, strict=True):
        # Batch norm statistics stay frozen when fine-tuning (the Keras guide's advice).
        is_bn = isinstance(layer, keras().layers.BatchNormalization)
        layer.trainable = key in top and not is_bn
    return [k for k in ordered if k in top]


def build_transfer(input_shape, num_classes, base="mobilenetv2", weights="imagenet",
                   mode="feature-extraction", top_n=1, head_units=256, dropout=0.5):
    k = keras()
    L = k.layers
    if base not in BASES:
        raise ModelError(f"unknown transfer base '{base}' — known: {', '.join(BASES)}")
    if mode not in MODES:
        raise ModelError(f"unknown transfer mode '{mode}' — known: {', '.join(MODES)}")
    if weights not in ("imagenet", "none", None):
        raise ModelError(f"weights must be 'imagenet' or 'none', got {weights!r}")
    name, prep, smallest, _ = BASES[base]
    side = min(input_shape[:2])
    if side < smallest:
        raise ModelError(f"{name} needs inputs of at least {smallest}×{smallest}, got "
                         f"{input_shape[0]}×{input_shape[1]}; raise the image size")
    weights = None if mode == "scratch" or weights in ("none", None) else "imagenet"
    shape = (*input_shape[:2], 3)
    app = _application(base, shape, weights)
    set_trainable(app, base, mode, top_n)
    inputs = k.Input(shape=input_shape, name="image")
    x = inputs
    if input_shape[2] == 1:   # ImageNet bases see colour: repeat a grey channel three times
        x = L.Concatenate(name="gray_to_rgb")([x, x, x])
    x = custom_objects()["ImagenetPreprocess"](prep, name="preprocess")(x)
    base_model = k.Model(inputs, app(x), name=f"{base}_base")
    classes = custom_objects()
    features = k.Input(shape=(app.output.shape[-1],), name="features")
    h = features
    if head_units:
        h = L.Dense(int(head_units), activation="relu", name="head_fc")(h)
    h = L.Dropout(float(dropout), name="head_dropout")(h)
    out = L.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(h)
    head = k.Model(features, out, name="head")
    model = classes["TransferClassifier"](base_model, head, mode=mode, name=f"transfer_{base}")
    model(k.ops.zeros((1, *input_shape)))   # build every weight now, so counts are final
    return model


def imagenet_top5(image, base="vgg16"):
    """Chapter 4's demo: an ImageNet classifier's top five (label, probability) for one image."""
    import numpy as np

    from cnnstudio.core.imaging import fit_to_shape

    name = BASES[base][0]
    module = {"vgg16": "vgg16", "resnet50": "resnet", "mobilenetv2": "mobilenet_v2",
              "inceptionv3": "inception_v3", "efficientnetb0": "efficientnet"}[base]
    apps = keras().applications
    size = 299 if base == "inceptionv3" else 224
    try:
        model = getattr(apps, name)(weights="imagenet")
        batch = fit_to_shape(image, (size, size, 3))[None].astype("float32")
        mod = getattr(apps, module)
        probs = np.asarray(model.predict(mod.preprocess_input(batch), verbose=0))
        return [(label, float(p)) for _, label, p in mod.decode_predictions(probs, top=5)[0]]
    except Exception as exc:
        raise ModelError(f"ImageNet top-5 needs the {name} weights and class list, which could "
                         f"not be downloaded ({str(exc).splitlines()[0][:160]}); connect to "
                         "the internet once") from None


TRANSFER = Architecture(
    id="transfer", name="Transfer learning (chapter 5)",
    description="A network pretrained on ImageNet (VGG16, ResNet50, MobileNetV2, InceptionV3 or "
                "EfficientNetB0) with its classifier replaced by a new head for your classes. "
                "The book's four cases are one choice: extract features with the frozen base "
                "(its outputs are computed once and cached, so the head trains in seconds), "
                "fine-tune the top blocks, fine-tune everything, or train from scratch to see "
                "what the pretrained weights were worth.",
    source="Practical CNNs, chapter 5 (transfer learning, DogVGG16); keras.applications",
    build_fn=build_transfer, task="transfer",
    defaults={"base": "mobilenetv2", "weights": "imagenet", "mode": "feature-extraction",
              "top_n": 1, "head_units": 256, "dropout": 0.5},
    options_help={"base": "vgg16, resnet50, mobilenetv2, inceptionv3 or efficientnetb0",
                  "weights": "imagenet (downloaded once) or none",
                  "mode": "feature-extraction, fine-tune-top, fine-tune-all or scratch",
                  "top_n": "fine-tune-top: how many of the base's top blocks train",
                  "head_units": "units of the head's hidden layer (0: none)",
                  "dropout": "dropout in the head"},
    min_size=32, preferred_size=224)
