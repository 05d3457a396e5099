"""The book's first networks: the chapter 1 MLP, LeNet-5, and the chapter 2 CIFAR-10 CNN.

Every model takes raw 0–255 pixels and rescales them itself, so a saved
``model.keras`` needs nothing but a resized image to predict.
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.model_parts import build_mlp, classifier_head, image_input
from cnnstudio.core.options import Choice, Float, Int

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu")


def build_lenet5(input_shape, num_classes, activation="relu", pooling="max"):
    layers = keras().layers
    pool = layers.MaxPooling2D if pooling == "max" else layers.AveragePooling2D
    inputs, x = image_input(input_shape)
    # LeCun's C1 sees 32×32 inputs; "same" padding keeps a 28×28 MNIST digit at 28×28.
    x = layers.Conv2D(6, 5, padding="same", activation=activation, name="c1")(x)
    x = pool(2, name="s2")(x)
    x = layers.Conv2D(16, 5, activation=activation, name="c3")(x)
    x = pool(2, name="s4")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(120, activation=activation, name="c5")(x)
    x = layers.Dense(84, activation=activation, name="f6")(x)
    return keras().Model(inputs, classifier_head(x, num_classes), name="lenet5")


def build_book_cifar(input_shape, num_classes, dropout=0.25, dense_dropout=0.5):
    layers = keras().layers
    inputs, x = image_input(input_shape)
    for block, filters in enumerate((32, 64), start=1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{block}a")(x)
        x = layers.Conv2D(filters, 3, activation="relu", name=f"conv{block}b")(x)
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
        x = layers.Dropout(float(dropout), name=f"dropout{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="fc")(x)
    x = layers.Dropout(float(dense_dropout), name="dropout_fc")(x)
    return keras().Model(inputs, classifier_head(x, num_classes), name="book_cifar")


MLP = Architecture(
    id="mlp", name="Multilayer perceptron (chapter 1)",
    description="Two fully connected layers of 512 ReLU units with 20 % dropout and a softmax "
                "output: the book's first MNIST classifier. It sees pixels, not shapes.",
    source="Practical CNNs, chapter 1 (Keras MNIST MLP)", build_fn=build_mlp,
    specs=(Int("units", 512, 1, 8192, "units per hidden layer", step=32),
           Float("dropout", 0.2, 0.0, 0.95, "dropout rate after each layer"),
           Int("hidden_layers", 2, 1, 8, "number of hidden layers")))

LENET5 = Architecture(
    id="lenet5", name="LeNet-5",
    description="Two convolution + pooling stages (6 and 16 filters of 5×5) and three dense "
                "layers (120, 84, classes): LeCun's 1998 digit reader.",
    source="LeCun et al. 1998; Practical CNNs, chapter 4", build_fn=build_lenet5,
    specs=(Choice("activation", "relu", ACTIVATIONS, "relu or tanh (the original)"),
           Choice("pooling", "max", ("max", "avg"), "max or avg")),
    min_size=12)

BOOK_CIFAR = Architecture(
    id="book-cifar", name="CIFAR-10 CNN (chapter 2)",
    description="Two blocks of two 3×3 convolutions (32, then 64 filters), max-pooling and "
                "dropout, then a 512-unit dense layer: the book's CIFAR-10 network.",
    source="Practical CNNs, chapter 2 (Keras cifar10_cnn)", build_fn=build_book_cifar,
    specs=(Float("dropout", 0.25, 0.0, 0.95, "dropout after each conv block"),
           Float("dense_dropout", 0.5, 0.0, 0.95, "dropout before the output")),
    min_size=10, preferred_size=32)
