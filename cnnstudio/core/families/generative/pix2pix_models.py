"""pix2pix as one ``keras.Model``: a U-Net G, a PatchGAN D on (input, image) pairs, two
optimizers and the paper's alternating ``train_step`` (book chapter 8).

    model = build((64, 64, 1), (64, 64, 3), filters=32, l1_weight=100, gan_weight=1)
    model.compile(d_optimizer=Adam(2e-4, beta_1=0.5), g_optimizer=Adam(2e-4, beta_1=0.5))
    model.fit(edges_uint8, scenes_uint8, batch_size=16)   # logs d_loss, g_gan, g_l1, d_real, d_fake
    model.translate(edges_uint8)                          # uint8 (N, 64, 64, 3)
    model.patch_realness(edges_uint8, images_uint8)       # D's P(real) per patch, (N, 8, 8)
    model(edges_0_255)                                    # G's output in [−1, 1]

One step: G first — its loss is gan_weight · BCE(D(x, G(x)), real) + l1_weight · |G(x) − y|
(images in [−1, 1], as the paper) — then D on (x, y) as real and (x, G(x)) as fake, with
the paper's ½ on D's loss, reusing that step's G(x): one G forward per step, not two.
``gan_weight`` 0 is the L1-only baseline; D still learns beside it, so its patch map
says how fake the blurred images look.

The logged ``g_l1`` is on the 0..1 pixel scale (half the [−1, 1] distance the loss uses),
the same scale as the probes' and the evaluation's L1.

Both optimizers are saved with the model, as the GANs' (``GeneratorOptimizerModel``):
``optimizer`` is D's, ``g_optimizer`` G's, whose state also rides in get/set_weights so
the epoch writer's checkpoint copy holds both.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.families.generative.gan_models import GeneratorOptimizerModel
from cnnstudio.core.families.generative.translation_networks import (
    bce_logits,
    l1,
    patch_discriminator,
    to_uint8,
    to_unit,
    unet_generator,
)
from cnnstudio.core.families.generative.translation_options import (
    DROPOUT,
    GAN_WEIGHT,
    L1_WEIGHT,
    PATCH_LAYERS,
)
from cnnstudio.core.families.generative.translation_options import (
    PIX2PIX_FILTERS as FILTERS,
)
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.options import require

K = keras()
ops = K.ops
BATCH = 64                  # translate / patch_realness: images per call


def _fit(images, shape) -> np.ndarray:
    """uint8 images (N, H, W, C) or one image brought to ``shape`` (resized, channels)."""
    from cnnstudio.core.imaging import resize_batch

    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    return resize_batch(images.astype(np.uint8, copy=False), tuple(shape))


@K.saving.register_keras_serializable(package="cnnstudio")
class Pix2Pix(GeneratorOptimizerModel):
    """G: source image → target image (U-Net); D: (source, image) → a logit per patch."""

    def __init__(self, source_shape=(64, 64, 1), target_shape=(64, 64, 3), filters: int = 32,
                 l1_weight: float = 100.0, gan_weight: float = 1.0, patch_layers: int = 3,
                 dropout: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.source_shape = tuple(int(s) for s in source_shape)
        self.target_shape = tuple(int(s) for s in target_shape)
        # A saved file's config meets the same specs as the form and the run config.
        self.filters, self.patch_layers = require(FILTERS, filters), require(PATCH_LAYERS,
                                                                             patch_layers)
        self.l1_weight, self.gan_weight = require(L1_WEIGHT, l1_weight), require(GAN_WEIGHT,
                                                                                gan_weight)
        self.dropout = require(DROPOUT, dropout)
        self.generator = unet_generator(self.source_shape, self.target_shape[2], self.filters,
                                        dropout=self.dropout, name="generator")
        pair = (*self.source_shape[:2], self.source_shape[2] + self.target_shape[2])
        self.discriminator = patch_discriminator(pair, self.filters, self.patch_layers,
                                                 name="discriminator")
        self.g_optimizer = None
        self.trackers = {name: K.metrics.Mean(name=name)
                         for name in ("d_loss", "g_gan", "g_l1", "d_real", "d_fake")}
        self.build((None, *self.source_shape))

    def get_config(self):
        return {**super().get_config(), "source_shape": self.source_shape,
                "target_shape": self.target_shape, "filters": self.filters,
                "l1_weight": self.l1_weight, "gan_weight": self.gan_weight,
                "patch_layers": self.patch_layers, "dropout": self.dropout}

    def build(self, input_shape=None):
        self.built = True       # G and D are built functional models already

    def call(self, inputs, training=False):
        """G's image for each input (pixel values 0..255), in [−1, 1]."""
        return self.generator(to_unit(ops.convert_to_tensor(inputs)), training=training)

    def compile(self, d_optimizer=None, g_optimizer=None, optimizer=None, **kwargs):
        d_optimizer = d_optimizer or optimizer or K.optimizers.Adam(2e-4, beta_1=0.5)
        super().compile(optimizer=d_optimizer, **kwargs)
        self.g_optimizer = g_optimizer or K.optimizers.Adam(2e-4, beta_1=0.5)

    def train_step(self, data):
        from cnnstudio.core.training.gradients_tf import value_and_grads

        source, target = data[0], data[1]
        source, target = to_unit(source), to_unit(target)
        G, D = self.generator, self.discriminator

        def g_loss_fn():
            fake = G(source, training=True)
            fake_logits = D(ops.concatenate([source, fake], axis=-1), training=True)
            adversarial, distance = bce_logits(1.0, fake_logits), l1(fake, target)
            loss = self.l1_weight * distance
            if self.gan_weight:
                loss = loss + self.gan_weight * adversarial
            return loss, (fake, adversarial, distance)

        _, (fake, g_gan, g_l1), grads = value_and_grads(g_loss_fn, G.trainable_variables)
        self.g_optimizer.apply_gradients(zip(grads, G.trainable_variables, strict=True))
        fake = ops.stop_gradient(fake)

        def d_loss_fn():
            real_logits = D(ops.concatenate([source, target], axis=-1), training=True)
            fake_logits = D(ops.concatenate([source, fake], axis=-1), training=True)
            loss = 0.5 * (bce_logits(1.0, real_logits) + bce_logits(0.0, fake_logits))
            return loss, (real_logits, fake_logits)

        d_loss, (real_logits, fake_logits), grads = value_and_grads(
            d_loss_fn, D.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, D.trainable_variables, strict=True))

        t = self.trackers
        t["d_loss"].update_state(d_loss)
        t["g_gan"].update_state(g_gan)
        t["g_l1"].update_state(0.5 * g_l1)           # the 0..1 pixel scale
        t["d_real"].update_state(ops.mean(ops.sigmoid(real_logits)))
        t["d_fake"].update_state(ops.mean(ops.sigmoid(fake_logits)))
        return {name: m.result() for name, m in t.items()}

    # -- numpy in, numpy out (the GUI, the CLI, probes) -------------------------------------
    def translate(self, inputs_uint8) -> np.ndarray:
        """G's images, uint8 (N, H, W, Ct), for uint8 inputs (fitted to ``source_shape``)."""
        x = _fit(inputs_uint8, self.source_shape)
        out = [to_uint8(self.generator(to_unit(x[i:i + BATCH]), training=False))
               for i in range(0, len(x), BATCH)]
        return np.concatenate(out) if out else np.zeros((0, *self.target_shape), np.uint8)

    def patch_realness(self, inputs_uint8, outputs_uint8) -> np.ndarray:
        """D's probability that each patch of (input, output) is a real pair: float32
        (N, h, w) in 0..1, h = patch_map_size(H, patch_layers)."""
        x = to_unit(_fit(inputs_uint8, self.source_shape))
        y = to_unit(_fit(outputs_uint8, self.target_shape))
        out = []
        for i in range(0, len(x), BATCH):
            pair = np.concatenate([x[i:i + BATCH], y[i:i + BATCH]], axis=-1)
            logits = ops.convert_to_numpy(self.discriminator(pair, training=False))
            out.append(1.0 / (1.0 + np.exp(-logits[..., 0].astype(np.float64))))
        return np.concatenate(out).astype(np.float32)


def build(source_shape, target_shape, filters=32, l1_weight=100.0, gan_weight=1.0,
          patch_layers=3, dropout=0.5) -> Pix2Pix:
    return Pix2Pix(source_shape, target_shape, filters, l1_weight, gan_weight, patch_layers,
                   dropout, name="pix2pix")
