"""The multi-task network: a shared trunk and one small head per task (a Keras multi-output
model whose outputs are a dict, head key → softmax). Raw 0–255 pixels in, like every
classifier of the studio."""

from __future__ import annotations

from cnnstudio.core.errors import DataError, ModelError
from cnnstudio.core.families.classification.multitask_data import MAX_HEADS, selected_heads
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.model_parts import image_input


def small_trunk(x, filters: int):
    """Four conv–BN–ReLU blocks (filters, 2×, 4×, 4×), three 2×2 pools, global average pool."""
    layers = keras().layers
    widths = (filters, 2 * filters, 4 * filters, 4 * filters)
    for block, width in enumerate(widths, start=1):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"trunk_conv{block}")(x)
        # momentum 0.9: the moving statistics catch up within the few hundred steps of a
        # small run (at Keras's 0.99 the held-out accuracy lagged at chance for epochs).
        x = layers.BatchNormalization(momentum=0.9, name=f"trunk_bn{block}")(x)
        x = layers.ReLU(name=f"trunk_relu{block}")(x)
        if block < len(widths):
            x = layers.MaxPooling2D(2, name=f"trunk_pool{block}")(x)
    return layers.GlobalAveragePooling2D(name="trunk_features")(x)


def mobilenet_trunk(inputs, input_shape):
    """Frozen ImageNet MobileNetV2 features, only from weights already in the Keras cache
    (a multi-task lesson should not start with a 9 MB download)."""
    from cnnstudio.core.datasets.keras_downloads import keras_cache_dir
    from cnnstudio.core.families.classification.transfer import (
        custom_objects,
        weights_download,
    )

    if min(input_shape[:2]) < 32:
        raise ModelError(f"the mobilenetv2 trunk needs inputs of at least 32×32, got "
                         f"{input_shape[0]}×{input_shape[1]}; raise the dataset's size")
    shape = (*input_shape[:2], 3)
    download = weights_download("mobilenetv2", include_top=False, shape=shape)
    path = keras_cache_dir(download.subdir) / download.target
    if not path.is_file():
        raise ModelError(f"the mobilenetv2 trunk uses ImageNet weights from the Keras cache, "
                         f"and {path} is not there: train a 'transfer' model with base "
                         f"mobilenetv2 once (it downloads them), or use trunk 'small'")
    layers = keras().layers
    app = keras().applications.MobileNetV2(include_top=False, weights=str(path),
                                           input_shape=shape, pooling="avg")
    app.trainable = False
    x = inputs
    if input_shape[2] == 1:
        x = layers.Concatenate(name="gray_to_rgb")([x, x, x])
    x = custom_objects()["ImagenetPreprocess"]("tf", name="preprocess")(x)
    return app(x, training=False)


def build_multitask(input_shape, num_classes, trunk="small", filters=16, head_units=32,
                    dropout=0.2, tasks="all", **_weights):
    """``num_classes`` is the dataset's ``HeadCounts`` (every task's class count); a plain int
    (a layer summary before any data is loaded) gives three heads of that many classes. The
    weight_* options only matter to the loss (the task's compile)."""
    heads = getattr(num_classes, "heads", None) or {
        f"task {i}": int(num_classes) for i in range(1, MAX_HEADS + 1)}
    layers = keras().layers
    inputs, rescaled = image_input(input_shape)
    if trunk == "mobilenetv2":
        features = mobilenet_trunk(inputs, input_shape)     # its own preprocessing
    else:
        features = small_trunk(rescaled, int(filters))
    outputs = {}
    for key, name in selected_heads(tasks, heads):
        h = features
        if head_units:
            h = layers.Dense(int(head_units), activation="relu", name=f"{key}_fc")(h)
        h = layers.Dropout(float(dropout), name=f"{key}_dropout")(h)
        size = heads[name]
        if size < 2:
            raise DataError(f"task {name} has {size} class; a head needs at least two")
        outputs[key] = layers.Dense(size, activation="softmax", dtype="float32", name=key)(h)
    return keras().Model(inputs, outputs, name="multitask")
