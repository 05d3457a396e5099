"""CycleGAN as one ``keras.Model``: two generators, two discriminators, four optimizers and
the paper's ``train_step`` (Zhu et al. 2017).

    model = CycleGan((32, 32, 3), generator="unet", filters=32)
    model.compile()                                  # four Adams (2e-4, β₁ = 0.5)
    model.fit(batches)                               # batches of (a images, b images), uint8
    model.translate(a_uint8, "a2b")                  # G(a) as uint8
    model.cycle(a_uint8, "a2b")                      # (G(a), F(G(a))) as uint8
    model(a_uint8)                                   # G(a) in [−1, 1]

G: A→B and F: B→A learn together from one loss: LSGAN terms (D_B should call G(a) real,
D_A should call F(b) real), the cycle losses λ·(|F(G(a)) − a| + |G(F(b)) − b|) and the
identity losses identity_weight·λ·(|G(b) − b| + |F(a) − a|). Then D_A and D_B learn, each
with the LSGAN loss halved as in the paper, on real images and on fakes drawn from a pool
of past ones (image_pool.py).

All four optimizers are saved: ``optimizer`` is G's (the one Keras knows; also
``g_optimizer``), ``f_optimizer``, ``d_a_optimizer`` and ``d_b_optimizer`` are attributes
that ``model.save`` stores under their names, and the last three ride in get/set_weights so
the epoch writer's checkpoints (written from a snapshot) hold them too.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.families.generative.image_pool import ImagePool
from cnnstudio.core.families.generative.resnet_generator import resnet_generator
from cnnstudio.core.families.generative.translation_networks import (
    l1,
    lsgan,
    patch_discriminator,
    to_uint8,
    to_unit,
)
from cnnstudio.core.families.generative.translation_networks import (
    unet_generator as _unet,
)
from cnnstudio.core.families.generative.translation_options import (
    CYCLE_WEIGHT,
    GENERATOR,
    IDENTITY_WEIGHT,
    POOL_SIZE,
)
from cnnstudio.core.families.generative.translation_options import (
    CYCLEGAN_FILTERS as FILTERS,
)
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.options import require

K = keras()
ops = K.ops
LOGS = ("d_a_loss", "d_b_loss", "g_loss", "f_loss", "cycle_a", "cycle_b", "identity")
EXTRA_OPTIMIZERS = ("f_optimizer", "d_a_optimizer", "d_b_optimizer")
DIRECTIONS = ("a2b", "b2a")
PREDICT_BATCH = 128


def patch_layers(side: int) -> int:
    """The discriminators' stride-2 layers: 3 (the paper's 70×70 patches) from 64 px, 2 below
    (34×34 patches on a 32×32 image: a 4×4 map would leave D little to compare)."""
    return 3 if side >= 64 else 2


def make_generator(kind: str, shape, filters: int, name: str):
    if kind == "resnet":
        return resnet_generator(shape, shape[2], filters, name=name)
    # No dropout: CycleGAN's code runs its U-Net without it (noise here only hurts the cycle).
    return _unet(shape, shape[2], filters, dropout=0.0, name=name)


def cycle_loss(real, reconstructed):
    """|F(G(a)) − a| averaged over every pixel (the paper's L1 cycle-consistency term)."""
    return l1(reconstructed, real)


def default_optimizer():
    return K.optimizers.Adam(2e-4, beta_1=0.5)


@K.saving.register_keras_serializable(package="cnnstudio")
class CycleGan(K.Model):
    def __init__(self, image_shape=(32, 32, 3), generator: str = "unet", filters: int = 32,
                 cycle_weight: float = 10.0, identity_weight: float = 0.5,
                 pool_size: int = 50, **kwargs):
        super().__init__(**kwargs)
        # A saved file's config meets the same specs as the form and the run config.
        self.image_shape = tuple(int(s) for s in image_shape)
        self.generator_kind = require(GENERATOR, generator)
        self.filters = require(FILTERS, filters)
        self.cycle_weight = require(CYCLE_WEIGHT, cycle_weight)
        self.identity_weight = require(IDENTITY_WEIGHT, identity_weight)
        self.pool_size = require(POOL_SIZE, pool_size)
        shape, layers = self.image_shape, patch_layers(min(self.image_shape[:2]))
        self.g = make_generator(self.generator_kind, shape, self.filters, "g_a2b")
        self.f = make_generator(self.generator_kind, shape, self.filters, "f_b2a")
        self.d_a = patch_discriminator(shape, self.filters, layers, name="d_a")
        self.d_b = patch_discriminator(shape, self.filters, layers, name="d_b")
        self.pool_a = ImagePool(self.pool_size, shape, name="pool_a")    # F(b): for D_A
        self.pool_b = ImagePool(self.pool_size, shape, name="pool_b")    # G(a): for D_B
        self.f_optimizer = self.d_a_optimizer = self.d_b_optimizer = None
        self.trackers = {name: K.metrics.Mean(name=name) for name in LOGS}
        self.build((None, *self.image_shape))

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape,
                "generator": self.generator_kind, "filters": self.filters,
                "cycle_weight": self.cycle_weight, "identity_weight": self.identity_weight,
                "pool_size": self.pool_size}

    def build(self, input_shape=None):
        self.built = True           # the four networks are built functional models

    def call(self, images, training=False):
        """G(a) in [−1, 1] for images a with pixel values 0..255."""
        return self.g(to_unit(images), training=training)

    @property
    def metrics(self):
        return list(self.trackers.values())

    # -- the four optimizers, all saved --------------------------------------------------
    @property
    def g_optimizer(self):
        return self.optimizer

    def _pairs(self):
        """(optimizer, network) for each of the four, G's first."""
        return ((self.optimizer, self.g), (self.f_optimizer, self.f),
                (self.d_a_optimizer, self.d_a), (self.d_b_optimizer, self.d_b))

    def _extra_state(self):
        return [v for name in EXTRA_OPTIMIZERS
                if (opt := getattr(self, name)) is not None and opt.built
                for v in opt.variables]

    def get_weights(self):
        return super().get_weights() + [ops.convert_to_numpy(v) for v in self._extra_state()]

    def set_weights(self, weights):
        own = len(self.weights)
        super().set_weights(weights[:own])
        extra, state = weights[own:], self._extra_state()
        if extra and len(extra) != len(state):
            raise ValueError(f"expected {len(state)} optimizer arrays of F, D_A and D_B, got "
                             f"{len(extra)}")
        for variable, value in zip(state, extra, strict=False):
            variable.assign(value)

    def compile(self, g_optimizer=None, f_optimizer=None, d_a_optimizer=None,
                d_b_optimizer=None, optimizer=None, **kwargs):
        super().compile(optimizer=g_optimizer or optimizer or default_optimizer(), **kwargs)
        self.f_optimizer = f_optimizer or default_optimizer()
        self.d_a_optimizer = d_a_optimizer or default_optimizer()
        self.d_b_optimizer = d_b_optimizer or default_optimizer()

    def get_compile_config(self):
        ser = K.saving.serialize_keras_object
        return {"g_optimizer": ser(self.optimizer),
                **{name: ser(getattr(self, name)) for name in EXTRA_OPTIMIZERS}}

    def compile_from_config(self, config):
        des = K.saving.deserialize_keras_object
        self.compile(g_optimizer=des(config["g_optimizer"]),
                     **{name: des(config[name]) for name in EXTRA_OPTIMIZERS})
        # Slots must exist before load_model assigns the saved Adam moments to them.
        for optimizer, network in self._pairs():
            optimizer.build(network.trainable_variables)

    # -- training ----------------------------------------------------------------------------
    def train_step(self, data):
        from cnnstudio.core.training.gradients_tf import value_and_grads

        # (a, b) from the task's batches (x, y to Keras), or x=(a, b) given to fit/train_on_batch
        a, b = data[0] if isinstance(data[0], (tuple, list)) else data[:2]
        real_a, real_b = to_unit(a), to_unit(b)
        G, F, D_A, D_B = self.g, self.f, self.d_a, self.d_b
        lam, idt = self.cycle_weight, self.identity_weight * self.cycle_weight

        def generators_loss():
            fake_b, fake_a = G(real_a, training=True), F(real_b, training=True)
            g_adv = lsgan(1.0, D_B(fake_b, training=True))
            f_adv = lsgan(1.0, D_A(fake_a, training=True))
            cycle_a = cycle_loss(real_a, F(fake_b, training=True))
            cycle_b = cycle_loss(real_b, G(fake_a, training=True))
            total = g_adv + f_adv + lam * (cycle_a + cycle_b)
            identity = ops.zeros(())
            if idt:
                identity = l1(G(real_b, training=True), real_b) + \
                    l1(F(real_a, training=True), real_a)
                total = total + idt * identity
            return total, (fake_a, fake_b, g_adv, f_adv, cycle_a, cycle_b, identity)

        g_vars, f_vars = G.trainable_variables, F.trainable_variables
        _, aux, grads = value_and_grads(generators_loss, g_vars + f_vars)
        fake_a, fake_b, g_adv, f_adv, cycle_a, cycle_b, identity = aux
        self.optimizer.apply_gradients(zip(grads[:len(g_vars)], g_vars, strict=True))
        self.f_optimizer.apply_gradients(zip(grads[len(g_vars):], f_vars, strict=True))

        # The discriminators judge fakes made before this step's generator update, half of
        # them (once the pools are full) from earlier steps.
        old_a, old_b = self.pool_a(fake_a), self.pool_b(fake_b)

        def discriminators_loss():
            d_a = 0.5 * (lsgan(1.0, D_A(real_a, training=True)) +
                         lsgan(0.0, D_A(old_a, training=True)))
            d_b = 0.5 * (lsgan(1.0, D_B(real_b, training=True)) +
                         lsgan(0.0, D_B(old_b, training=True)))
            return d_a + d_b, (d_a, d_b)

        da_vars, db_vars = D_A.trainable_variables, D_B.trainable_variables
        _, (d_a_loss, d_b_loss), grads = value_and_grads(discriminators_loss, da_vars + db_vars)
        self.d_a_optimizer.apply_gradients(zip(grads[:len(da_vars)], da_vars, strict=True))
        self.d_b_optimizer.apply_gradients(zip(grads[len(da_vars):], db_vars, strict=True))

        values = dict(zip(LOGS, (d_a_loss, d_b_loss, g_adv, f_adv, cycle_a, cycle_b,
                                 identity), strict=True))
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: m.result() for name, m in self.trackers.items()}

    # -- numpy in, numpy out -------------------------------------------------------------------
    def _fit(self, images) -> np.ndarray:
        from cnnstudio.core.imaging import fit_to_shape

        images = np.asarray(images)
        if images.ndim == 3:
            images = images[None]
        if images.shape[1:] == self.image_shape:
            return images
        return np.stack([fit_to_shape(im, self.image_shape) for im in images])

    def _network(self, direction: str):
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'a2b' or 'b2a', got {direction!r}")
        return (self.g, self.f) if direction == "a2b" else (self.f, self.g)

    @staticmethod
    def _run(network, x) -> np.ndarray:
        out = [np.asarray(network(to_unit(x[i:i + PREDICT_BATCH]), training=False))
               for i in range(0, len(x), PREDICT_BATCH)]
        return np.concatenate(out) if out else np.zeros(x.shape, np.float32)

    def translate(self, images_uint8, direction: str = "a2b") -> np.ndarray:
        """G(a) ("a2b") or F(b) ("b2a") as uint8 (N, H, W, C); other sizes are fitted first."""
        forward, _ = self._network(direction)
        return to_uint8(self._run(forward, self._fit(images_uint8)))

    def cycle(self, images_uint8, direction: str = "a2b") -> tuple[np.ndarray, np.ndarray]:
        """(translated, reconstructed) as uint8: (G(a), F(G(a))) or (F(b), G(F(b)))."""
        forward, backward = self._network(direction)
        translated = to_uint8(self._run(forward, self._fit(images_uint8)))
        return translated, to_uint8(self._run(backward, translated))
