"""Chapter 3's two hand-built networks: the Dogs-vs-Cats CNN and the traffic-sign CNN with batch norm.

Both were written in low-level TensorFlow in the book; here they are the same
layers in Keras, so their parameter counts match the book's graphs.
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.model_parts import classifier_head, image_input
from cnnstudio.core.options import Bool, Float, Int


def build_dogs_vs_cats(input_shape, num_classes, fc_units=128, dropout=0.0, batch_norm=False):
    layers = keras().layers
    inputs, x = image_input(input_shape)
    # The book's create_convolutional_layer: 3×3 conv, ReLU, 2×2 max-pool, all 'SAME' padded.
    for i, filters in enumerate((32, 32, 64), start=1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.MaxPooling2D(2, padding="same", name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(int(fc_units), activation="relu", name="fc")(x)
    if dropout:
        x = layers.Dropout(float(dropout), name="dropout_fc")(x)
    return keras().Model(inputs, classifier_head(x, num_classes), name="dogs_vs_cats")


def build_traffic_signs_bn(input_shape, num_classes, batch_norm=True, dropout=0.25):
    layers = keras().layers
    bn = (lambda name: layers.BatchNormalization(name=name)) if batch_norm else None
    inputs, x = image_input(input_shape)
    # Xavier (Glorot uniform) initialisation is Keras's default for Conv2D and Dense.
    x = layers.Conv2D(128, 6, padding="same", activation="relu", name="conv1")(x)
    x = bn("bn1")(x) if bn else x
    x = layers.MaxPooling2D(2, padding="same", name="pool1")(x)
    x = layers.Conv2D(256, 4, strides=2, padding="same", activation="relu", name="conv2")(x)
    x = bn("bn2")(x) if bn else x
    x = layers.MaxPooling2D(2, padding="same", name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="fc")(x)
    x = bn("bn3")(x) if bn else x
    x = layers.Dropout(float(dropout), name="dropout_fc")(x)
    return keras().Model(inputs, classifier_head(x, num_classes), name="traffic_signs_bn")


DOGS_VS_CATS = Architecture(
    id="dogs-vs-cats", name="Dogs vs Cats CNN (chapter 3)",
    description="Three 3×3 convolutions (32, 32 and 64 filters), each followed by ReLU and 2×2 "
                "max-pooling, then a 128-unit dense layer and a two-way softmax. The book trains "
                "it on 128×128 colour photos of dogs and cats from Kaggle; most of its 2.1 million "
                "weights sit in the dense layer, which sees the 16×16×64 feature map.",
    source="Practical CNNs, chapter 3 (Dogs vs Cats with TensorFlow)", build_fn=build_dogs_vs_cats,
    specs=(Int("fc_units", 128, 1, 8192, "units of the dense layer (book: 128)", step=32),
           Float("dropout", 0.0, 0.0, 0.95, "dropout before the output (book: none)"),
           Bool("batch_norm", False, "batch normalisation after each convolution")),
    min_size=8, preferred_size=128)

TRAFFIC_SIGNS_BN = Architecture(
    id="traffic-signs-bn", name="Traffic-sign CNN with batch norm (chapter 3)",
    description="A 6×6 convolution with 128 filters and a strided 4×4 convolution with 256, "
                "each followed by batch normalisation and max-pooling, then a 512-unit dense "
                "layer with batch norm and 25 % dropout. The book uses it on the 62 Belgian "
                "traffic-sign classes (BelgiumTS) at 32×32 to show how batch normalisation "
                "and Xavier initialisation speed up training; switch batch_norm off to compare.",
    source="Practical CNNs, chapter 3 (traffic sign classifier, batch normalisation)",
    build_fn=build_traffic_signs_bn,
    specs=(Bool("batch_norm", True, "batch normalisation after each layer (the chapter's point)"),
           Float("dropout", 0.25, 0.0, 0.95, "dropout before the output (book: 0.25)")),
    min_size=8, preferred_size=32)
