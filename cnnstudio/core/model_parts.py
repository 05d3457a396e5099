"""Building blocks every family's Keras models share: the raw-pixel stem, the softmax
head and the plain MLP (the book's chapter-1 network, also the RAM paper's FC baseline).

Every model takes raw 0–255 pixels and rescales them itself, so a saved ``model.keras``
needs nothing but a resized image to predict.
"""

from __future__ import annotations

from cnnstudio.core.keras_setup import keras


def image_input(input_shape, name="image"):
    """The shared stem: an input of raw pixels and a 1/255 rescaling layer."""
    layers = keras().layers
    inputs = keras().Input(shape=input_shape, name=name)
    return inputs, layers.Rescaling(1.0 / 255, name="rescale")(inputs)


def classifier_head(x, num_classes):
    # float32 output keeps softmax stable under mixed precision.
    return keras().layers.Dense(num_classes, activation="softmax", dtype="float32",
                                name="predictions")(x)


def build_mlp(input_shape, num_classes, units=512, dropout=0.2, hidden_layers=2):
    layers = keras().layers
    inputs, x = image_input(input_shape)
    x = layers.Flatten(name="flatten")(x)
    for i in range(int(hidden_layers)):
        x = layers.Dense(int(units), activation="relu", name=f"dense_{i + 1}")(x)
        x = layers.Dropout(float(dropout), name=f"dropout_{i + 1}")(x)
    return keras().Model(inputs, classifier_head(x, num_classes), name="mlp")
