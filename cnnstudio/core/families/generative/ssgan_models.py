"""The semi-supervised GAN (Salimans et al. 2016, "Improved Techniques for Training GANs";
the book's chapter 8) as one ``keras.Model``.

    model = SemiSupervisedGan((28, 28, 1), 10, network="mlp")
    model.compile(d_optimizer=Adam(3e-4, beta_1=0.5), g_optimizer=Adam(3e-4, beta_1=0.5))
    model.fit(batches)     # each batch: (unlabelled images, labelled images, their labels)

The discriminator D has K class logits and no real/fake unit: its real/fake logit is
log-sum-exp of the class logits (ssgan_losses). D learns from the cross-entropy of the
few labelled images plus the real/fake loss on unlabelled real and generated images;
G learns by feature matching: the batch mean of D's last hidden layer on its images
should equal that on real ones.

With ``ema`` > 0 (the studio's default 0.99) a moving average of D's weights is kept
beside D, as Improved GAN's own code averages its parameters for testing: inference —
``class_logits``, ``classify``, ``model(images)``, the held-out accuracy — uses the
average; training steps use D. The average evens out the wobble adversarial steps give D
(in a trial on mnist-5k with 100 labels, at epoch 10: 0.826 against 0.794 held-out
accuracy).

For the prediction view (images are pixel values 0..255, like every studio model):

    model(images)              → D(x), the probability each image is real (N, 1)
    model.classify(images)     → numpy p(class | x) (N, K), the softmax of the class logits
    model.class_logits(images) → the K class logits (what accuracy is measured on)
    model.generate(z)                      → G's images for latent points z, in [−1, 1]

Both optimizers are saved with the model (``optimizer`` is D's, ``g_optimizer`` G's) and
rebuilt by ``compile_from_config`` before a ``.keras`` file's variables are loaded, the
same scheme as the GAN family's ``gan_models.Gan``.
"""

from __future__ import annotations

import math

import numpy as np

from cnnstudio.core.errors import ModelError
from cnnstudio.core.families.generative import ssgan_losses as L
from cnnstudio.core.families.generative.gan_models import (
    GeneratorOptimizerModel,
    average_into,
    averaged_copy,
)
from cnnstudio.core.families.generative.gan_options import EMA, UNSUPERVISED_WEIGHT
from cnnstudio.core.families.generative.gan_options import SSGAN_FILTERS as FILTERS
from cnnstudio.core.families.generative.gan_options import SSGAN_LATENT_SIZE as LATENT_SIZE
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.options import require

K = keras()
ops = K.ops
NETWORKS = ("mlp", "conv")


def mlp_networks(shape, num_classes: int, latent_size: int):
    """Improved GAN's MNIST networks. D: Gaussian noise on the input (σ 0.3 on [0, 1]
    pixels, so 0.6 here on [−1, 1]) and after every hidden layer (σ 0.5), ReLU layers of
    1000-500-250-250-250 units; its features are the last hidden layer. G: two softplus
    layers of 500 with batch norm, tanh pixels. (Improved GAN also weight-normalises D's
    layers; in short CPU runs on mnist-5k that, with its data-dependent initialisation,
    measured lower test accuracy at equal epochs, so D uses plain dense layers.)"""
    layers = K.layers
    image = K.Input(shape)
    h = layers.GaussianNoise(0.6)(layers.Flatten()(image))
    for units in (1000, 500, 250, 250):
        h = layers.GaussianNoise(0.5)(layers.Dense(units, activation="relu")(h))
    features = layers.Dense(250, activation="relu", name="features")(h)
    logits = layers.Dense(num_classes, name="class_logits")(layers.GaussianNoise(0.5)(features))
    discriminator = K.Model(image, [logits, features], name="discriminator")
    generator = K.Sequential([
        K.Input((latent_size,)),
        layers.Dense(500, activation="softplus"), layers.BatchNormalization(),
        layers.Dense(500, activation="softplus"), layers.BatchNormalization(),
        layers.Dense(math.prod(shape), activation="tanh"), layers.Reshape(shape)],
        name="generator")
    return generator, discriminator


def conv_networks(shape, num_classes: int, latent_size: int, filters: int = 64):
    """Improved GAN's CIFAR/SVHN discriminator, narrowed for CPUs: dropout on the input and
    between blocks, 3×3 convolutions with leaky ReLU, strided instead of pooled, a 1×1
    "network in network" layer and global average pooling (the matched features). G is
    the DCGAN generator of ``gan_models`` (transposed convolutions, batch norm, tanh)."""
    from cnnstudio.core.families.generative.gan_models import dcgan_networks

    layers = K.layers

    def conv(h, n, stride=1, size=3, padding="same"):
        h = layers.Conv2D(n, size, strides=stride, padding=padding)(h)
        return layers.LeakyReLU(0.2)(h)

    image = K.Input(shape)
    h = layers.Dropout(0.2)(image)
    h = layers.Dropout(0.5)(conv(conv(h, filters), filters, stride=2))
    h = layers.Dropout(0.5)(conv(conv(h, 2 * filters), 2 * filters, stride=2))
    h = conv(conv(h, 2 * filters, padding="valid"), 2 * filters, size=1)
    features = layers.GlobalAveragePooling2D(name="features")(h)
    logits = layers.Dense(num_classes, name="class_logits")(features)
    discriminator = K.Model(image, [logits, features], name="discriminator")
    generator, _ = dcgan_networks(shape, latent_size, filters)
    return generator, discriminator


@K.saving.register_keras_serializable(package="cnnstudio")
class SemiSupervisedGan(GeneratorOptimizerModel):
    """D: a K-class classifier whose log-sum-exp is its real/fake logit. G: feature matching.

    ``labelled_per_class`` is kept in the config so a resumed run picks the same labels;
    ``unsupervised_weight`` 0 trains D on the labels alone (the supervised baseline) and
    leaves G untouched.
    """

    def __init__(self, image_shape=(28, 28, 1), num_classes: int = 10, latent_size: int = 100,
                 network: str = "mlp", filters: int = 64, labelled_per_class: int = 10,
                 unsupervised_weight: float = 1.0, ema: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        if network not in NETWORKS:      # "auto" was resolved by the build
            raise ModelError(f"unknown network '{network}' for ssgan — known: "
                             f"{', '.join(NETWORKS)}")
        # A saved file's config meets the same specs as the form and the run config.
        self.num_classes = int(num_classes)
        self.latent_size = require(LATENT_SIZE, latent_size)
        self.network, self.filters = network, require(FILTERS, filters)
        self.labelled_per_class = int(labelled_per_class)
        self.unsupervised_weight = require(UNSUPERVISED_WEIGHT, unsupervised_weight)
        if network == "mlp":
            self.generator, self.discriminator = mlp_networks(
                self.image_shape, self.num_classes, self.latent_size)
        else:
            self.generator, self.discriminator = conv_networks(
                self.image_shape, self.num_classes, self.latent_size, self.filters)
        self.ema = require(EMA, ema)
        self.discriminator_ema = averaged_copy(self.discriminator) if self.ema else None
        self.seed_generator = K.random.SeedGenerator()      # drawn from the run's seed
        self.g_optimizer = None
        self.trackers = {name: K.metrics.Mean(name=name) for name in (
            "d_loss", "g_loss", "accuracy", "supervised_loss", "unsupervised_loss",
            "d_real", "d_fake")}
        self.build((None, *self.image_shape))

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape,
                "num_classes": self.num_classes, "latent_size": self.latent_size,
                "network": self.network, "filters": self.filters,
                "labelled_per_class": self.labelled_per_class,
                "unsupervised_weight": self.unsupervised_weight, "ema": self.ema}

    def build(self, input_shape=None):
        self.built = True       # G and D are built functional models already

    @staticmethod
    def scale(images):
        """Pixel values 0..255 → [−1, 1], the range G's tanh produces."""
        return ops.cast(images, "float32") / 127.5 - 1.0

    def class_logits(self, images, training=False):
        """D's K class logits for images given as pixel values 0..255 (at inference from
        the average of D's weights when the model keeps one)."""
        D = self.discriminator
        if self.discriminator_ema is not None and not training:
            D = self.discriminator_ema
        logits, _ = D(self.scale(images), training=training)
        return logits

    def call(self, images, training=False):
        """D(x) = sigmoid(log-sum-exp of the class logits): the probability that each image
        (pixel values 0..255) is real, shape (N, 1) — as the GAN family's models answer."""
        logits = self.class_logits(images, training=training)
        return ops.expand_dims(L.realness(logits, ops), -1)

    def classify(self, images, batch_size: int = 256) -> np.ndarray:
        """p(class | x, real) for uint8 images (N, H, W, C): numpy (N, K), the softmax of
        D's class logits. Their realness is ``model(images)``."""
        images = np.asarray(images)
        if len(images) == 0:
            return np.zeros((0, self.num_classes), np.float64)
        logits = np.concatenate([ops.convert_to_numpy(self.class_logits(images[i:i + batch_size]))
                                 for i in range(0, len(images), batch_size)])
        return L.class_probabilities(logits.astype(np.float64))

    def generate(self, z, training=False):
        """G's images for latent points ``z`` (N, latent_size), in [−1, 1]."""
        return self.generator(z, training=training)

    # -- compiling: two optimizers, both saved --------------------------------------
    def compile(self, d_optimizer=None, g_optimizer=None, optimizer=None, **kwargs):
        d_optimizer = d_optimizer or optimizer or K.optimizers.Adam(3e-4, beta_1=0.5)
        super().compile(optimizer=d_optimizer, **kwargs)
        self.g_optimizer = g_optimizer or K.optimizers.Adam(3e-4, beta_1=0.5)
        # Slots exist from the start: fit must not build D's optimizer over G's variables,
        # and load_model assigns saved Adam moments to them.
        self.optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def train_step(self, data):
        from cnnstudio.core.training.gradients_tf import value_and_grads

        unlabelled, labelled, labels = data
        x_unl, x_lab = self.scale(unlabelled), self.scale(labelled)
        onehot = ops.one_hot(ops.cast(labels, "int32"), self.num_classes)
        G, D = self.generator, self.discriminator
        n = ops.shape(x_unl)[0]
        fake = G(self._noise(n), training=True)

        def d_loss_fn():
            lab_logits, _ = D(x_lab, training=True)
            sup = L.supervised_loss(lab_logits, onehot, ops)
            if self.unsupervised_weight == 0:      # the labels-alone baseline
                return sup, (sup, ops.zeros(()), lab_logits, None, None)
            unl_logits, _ = D(x_unl, training=True)
            fake_logits, _ = D(fake, training=True)
            unsup = L.unsupervised_loss(unl_logits, fake_logits, ops)
            return sup + self.unsupervised_weight * unsup, (sup, unsup, lab_logits,
                                                            unl_logits, fake_logits)

        d_loss, (sup, unsup, lab_logits, unl_logits, fake_logits), grads = value_and_grads(
            d_loss_fn, D.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, D.trainable_variables, strict=True))
        if self.discriminator_ema is not None:
            average_into(self.discriminator_ema.weights, D.weights, self.ema,
                         self.optimizer.iterations)

        t = self.trackers
        if self.unsupervised_weight > 0:
            z = self._noise(n)

            def g_loss_fn():
                _, fake_features = D(G(z, training=True), training=True)
                _, real_features = D(x_unl, training=True)
                return L.feature_matching_loss(real_features, fake_features, ops), None

            g_loss, _, grads = value_and_grads(g_loss_fn, G.trainable_variables)
            self.g_optimizer.apply_gradients(zip(grads, G.trainable_variables, strict=True))
            t["g_loss"].update_state(g_loss)
            t["d_real"].update_state(ops.mean(L.realness(unl_logits, ops)))
            t["d_fake"].update_state(ops.mean(L.realness(fake_logits, ops)))
        hits = ops.cast(ops.equal(ops.argmax(lab_logits, axis=-1),
                                  ops.argmax(onehot, axis=-1)), "float32")
        t["accuracy"].update_state(hits)
        t["d_loss"].update_state(d_loss)
        t["supervised_loss"].update_state(sup)
        t["unsupervised_loss"].update_state(unsup)
        return {name: m.result() for name, m in t.items()}

    def test_step(self, data):
        """Accuracy of D's class logits on labelled held-out images (val_accuracy)."""
        images, labels = data[0], data[1]
        logits = self.class_logits(images, training=False)
        hits = ops.cast(ops.equal(ops.argmax(logits, axis=-1),
                                  ops.cast(ops.reshape(labels, (-1,)), "int32")), "float32")
        self.trackers["accuracy"].update_state(hits)
        return {"accuracy": self.trackers["accuracy"].result()}


def build(shape, num_classes, latent_size=100, network="auto", filters=64,
          labelled_per_class=10, unsupervised_weight=1.0, ema=0.0) -> SemiSupervisedGan:
    """``network`` "auto": Improved GAN's MLP for grey images, the conv D for colour."""
    if network == "auto":
        network = "mlp" if shape[-1] == 1 else "conv"
    return SemiSupervisedGan(shape, num_classes, latent_size, network, filters,
                             labelled_per_class, unsupervised_weight, ema, name="ssgan")
