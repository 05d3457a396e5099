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

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.errors import ModelError, StudioError
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.options import Choice, Float, Int

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
    """The keras.applications base. ImageNet weights come through the studio's downloader
    (progress events to whoever opened ``keras_downloads.progress_to``), then the cached
    path goes to the application, so Keras neither downloads nor prints a progress bar."""
    factory = getattr(keras().applications, BASES[base_id][0])
    if weights == "imagenet":
        weights = fetch_weights(base_id, include_top=False, shape=shape)
    return factory(include_top=False, weights=weights, input_shape=shape, pooling="avg")


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


# Where keras.applications fetches each base's weights: (folder URL, file stem, no-top suffix).
# The studio fetches the same file into the same cache (~/.keras/models) with its own
# progress events, then hands the path to the application, so Keras never downloads.
APPS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
WEIGHT_FILES = {
    "vgg16": (APPS_URL + "vgg16/", "vgg16_weights_tf_dim_ordering_tf_kernels", "_notop"),
    "resnet50": (APPS_URL + "resnet/", "resnet50_weights_tf_dim_ordering_tf_kernels", "_notop"),
    "mobilenetv2": (APPS_URL + "mobilenet_v2/",
                    "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}", "_no_top"),
    "inceptionv3": (APPS_URL + "inception_v3/",
                    "inception_v3_weights_tf_dim_ordering_tf_kernels", "_notop"),
    "efficientnetb0": ("https://storage.googleapis.com/keras-applications/", "efficientnetb0",
                       "_notop"),
}
CLASS_INDEX_URL = ("https://storage.googleapis.com/download.tensorflow.org/data/"
                   "imagenet_class_index.json")   # what decode_predictions downloads


def weights_download(base, include_top, shape=(224, 224, 3)):
    """The Download for ``base``'s ImageNet weights: Keras's own URL and cache file name."""
    from cnnstudio.core.datasets.keras_downloads import Download

    folder, stem, no_top = WEIGHT_FILES[base]
    # MobileNetV2 has weights per square input size; other sizes use the 224 ones.
    rows = shape[0] if shape[0] == shape[1] and shape[0] in (96, 128, 160, 192, 224) else 224
    name = stem.format(rows=224 if include_top else rows) + ("" if include_top else no_top)
    return Download(folder + name + ".h5", name + ".h5", subdir="models")


def fetch_weights(base, include_top=False, shape=(224, 224, 3), progress=None) -> str:
    """Path of the cached weight file, downloaded first (with progress events) if needed."""
    from cnnstudio.core.datasets.keras_downloads import ensure

    name = BASES[base][0]
    try:
        return str(ensure(weights_download(base, include_top, shape), progress,
                          f"{name} ImageNet weights"))
    except StudioError as exc:
        raise ModelError(f"the ImageNet weights for {name} are not on this computer and could "
                         f"not be downloaded: {exc}; or set the option weights to 'none'") \
            from None


def imagenet_class_names(progress=None) -> list[str]:
    """The 1,000 ImageNet class names, from the JSON file decode_predictions uses."""
    import json

    from cnnstudio.core.datasets.keras_downloads import Download, ensure

    download = Download(CLASS_INDEX_URL, "imagenet_class_index.json", subdir="models")
    try:
        path = ensure(download, progress, "the ImageNet class list")
        index = json.loads(path.read_text(encoding="utf-8"))
        return [index[str(i)][1] for i in range(len(index))]
    except StudioError as exc:
        raise ModelError(f"ImageNet top-5 needs the class list: {exc}") from None
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ModelError(f"cannot read the ImageNet class list {path}: {exc}; delete it to "
                         "download it again") from None


def imagenet_classifier(base="vgg16", progress=None):
    """``base`` with its ImageNet head (include_top=True), weights fetched on demand."""
    path = fetch_weights(base, include_top=True, progress=progress)
    return getattr(keras().applications, BASES[base][0])(weights=path)


def top5_from_model(model, image, base="vgg16", progress=None):
    """Top five (label, probability) of an ImageNet classifier, with its own preprocessing
    (decode_predictions' job, but reading the class list through the studio's cache)."""
    import numpy as np

    from cnnstudio.core.imaging import fit_to_shape

    size = tuple(int(d) for d in model.inputs[0].shape[1:3])
    batch = fit_to_shape(image, (*size, 3))[None].astype("float32")
    prep = custom_objects()["ImagenetPreprocess"](BASES[base][1])
    probs = np.asarray(model.predict_on_batch(prep(batch)), dtype=np.float64)[0]
    names = imagenet_class_names(progress)
    if len(names) != len(probs):
        raise ModelError(f"the ImageNet class list has {len(names)} names but the model "
                         f"{len(probs)} outputs")
    order = np.argsort(-probs, kind="stable")[:5]
    return [(names[i], float(probs[i])) for i in order]


def predictor_top5(predictor, image, progress=None) -> list[tuple[str, float]]:
    """What a transfer run's pretrained base, with its original ImageNet head, sees in
    ``image`` (chapter 4's VGG16 demo). The full classifier's weights download on first use;
    it is built once per Predictor and kept there (hundreds of MB for VGG16)."""
    if predictor.imagenet_base is None:
        raise StudioError("ImageNet top-5 needs a run of the 'transfer' model with "
                          "weights=imagenet")
    if predictor._imagenet is None:
        imagenet_class_names(progress)   # small: fail fast, before the weights
        predictor._imagenet = imagenet_classifier(predictor.imagenet_base, progress)
    return top5_from_model(predictor._imagenet, image, predictor.imagenet_base, progress)


def imagenet_top5(image, base="vgg16", progress=None):
    """Chapter 4's demo: an ImageNet classifier's top five (label, probability) for one image."""
    imagenet_class_names(progress)   # small: fail fast, before the large weight file
    return top5_from_model(imagenet_classifier(base, progress), image, base, progress)


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
    specs=(Choice("base", "mobilenetv2", tuple(BASES),
                  "vgg16, resnet50, mobilenetv2, inceptionv3 or efficientnetb0"),
           Choice("weights", "imagenet", ("imagenet", "none"),
                  "imagenet (downloaded once) or none"),
           Choice("mode", "feature-extraction", MODES,
                  "feature-extraction, fine-tune-top, fine-tune-all or scratch"),
           Int("top_n", 1, 1, 100, "fine-tune-top: how many of the base's top blocks train"),
           Int("head_units", 256, 0, 8192, "units of the head's hidden layer (0: none)", step=32),
           Float("dropout", 0.5, 0.0, 0.95, "dropout in the head")),
    min_size=32, preferred_size=224)
