"""The GAN as one ``keras.Model``: a generator G, a discriminator D, two optimizers and the
book's alternating ``train_step`` (chapter 8).

    model = build_dcgan((28, 28, 1), latent_size=100, filters=32, smoothing=0.1)
    model.compile(d_optimizer=Adam(2e-4, beta_1=0.5), g_optimizer=Adam(2e-4, beta_1=0.5))
    model.fit(x_uint8, batch_size=64, epochs=20)     # logs d_loss, g_loss, d_real, d_fake
    model(images_0_255)                              # D's probability that each is real

Images enter as pixel values 0..255 like every other studio model; inside, D and G work
on [−1, 1] (G ends in tanh). D returns logits; the losses use them directly, which is
numerically safer than a sigmoid followed by a log.

With ``ema`` > 0 the model also keeps a moving average of G's weights (Polyak averaging,
as ProGAN and BigGAN sample from): ``generate`` draws from that average, which smooths
out the step-to-step wobble of adversarial training; training itself uses G's own
weights. On mnist-5k it raised gan-mlp's digit score from 6.57 to 6.95 at equal epochs
(benchmarks/gan_quality.py).

dcgan's D can be wider than G (``d_filters``) with larger kernels (``d_kernel``) when the
R1 penalty (``r1``) keeps it smooth. On mnist-5k (fast trials through this class, same
LeNet judge, batch 32, Adam 5e-4) filters 32 alone scored 7.03 after 30 epochs; R1 γ = 2
alone 7.10 (FD 23.9 → 17.8); D at 64 filters, 5 × 5 kernels and R1 γ = 2 scored 7.48 at
30 epochs, 7.70 at 40 and 7.84 at 60 (FD 5.8), about 2.8× the time per epoch.
The chapter-8 MNIST preset uses that D for 40 epochs: benchmarks/gan_quality.py scored it
7.70 (FD 7.37; real digits 9.59), short of its 0.85 × real goal; filters 32 alone had 7.02.

Both optimizers are part of the saved model: ``optimizer`` (D's, the one Keras knows)
and ``g_optimizer`` (an attribute, so ``model.save`` stores its variables under its
name). ``compile_from_config`` rebuilds both before a ``.keras`` file's variables are
loaded, so a resumed run continues both Adam states and iteration counts.
"""

from __future__ import annotations

import math

from cnnstudio.core.errors import ModelError
from cnnstudio.core.families.generative.gan_options import EMA, R1, SMOOTHING
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.options import require

K = keras()
ops = K.ops


def _bce(target: float, logits):
    """Mean binary cross-entropy of logits against a constant target (0, 1 or 1 − smoothing)."""
    labels = ops.full(ops.shape(logits), target, dtype=logits.dtype)
    return ops.mean(ops.binary_crossentropy(labels, logits, from_logits=True))


def mlp_networks(shape, latent_size: int, hidden: int):
    """The book's MNIST GAN: one hidden layer each, leaky ReLU (α 0.01), tanh pixels."""
    layers = K.layers
    generator = K.Sequential([
        K.Input((latent_size,)), layers.Dense(hidden), layers.LeakyReLU(0.01),
        layers.Dense(math.prod(shape), activation="tanh"), layers.Reshape(shape)],
        name="generator")
    discriminator = K.Sequential([
        K.Input(shape), layers.Flatten(), layers.Dense(hidden), layers.LeakyReLU(0.01),
        layers.Dense(1)], name="discriminator")
    return generator, discriminator


def upsamplings(height: int, width: int) -> int:
    """How many ×2 transposed convolutions G needs: 2 for 28×28 (7→14→28), 3 for 32×32."""
    for k in (4, 3, 2):
        if height % 2 ** k == 0 and width % 2 ** k == 0 and min(height, width) // 2 ** k >= 3:
            return k
    raise ModelError(f"dcgan needs image sides divisible by 4 (e.g. 28, 32 or 64), got "
                     f"{height}×{width}; set the dataset's size option")


def dcgan_networks(shape, latent_size: int, filters: int, d_filters: int = 0,
                   d_kernel: int = 4):
    """DCGAN: G projects z to a small feature block and doubles it with strided transposed
    convolutions (batch norm + ReLU, tanh last); D mirrors it with strided convolutions and
    leaky ReLU (α 0.2), no pooling, as Radford et al. advise. No dropout in D: in our mnist-5k
    trials (benchmarks/gan_quality.py) G improved faster without it. D's first convolution
    has ``d_filters`` filters (0: ``filters``, G's last) of ``d_kernel`` × ``d_kernel``."""
    layers = K.layers
    height, width, channels = shape
    k = upsamplings(height, width)
    top = filters * 2 ** (k - 1)
    g = [K.Input((latent_size,)),
         layers.Dense((height >> k) * (width >> k) * top, use_bias=False),
         layers.BatchNormalization(momentum=0.9), layers.ReLU(),
         layers.Reshape((height >> k, width >> k, top))]
    for i in range(1, k):
        g += [layers.Conv2DTranspose(top >> i, 4, strides=2, padding="same", use_bias=False),
              layers.BatchNormalization(momentum=0.9), layers.ReLU()]
    g.append(layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation="tanh"))
    d = [K.Input(shape)]
    for i in range(k):
        d += [layers.Conv2D((d_filters or filters) * 2 ** i, d_kernel, strides=2,
                            padding="same"),
              layers.LeakyReLU(0.2)]
    d += [layers.Flatten(), layers.Dense(1)]
    return K.Sequential(g, name="generator"), K.Sequential(d, name="discriminator")


def averaged_copy(network):
    """A frozen twin of ``network`` with its weights, to hold their moving average. Built in
    the owning model's ``__init__`` (before it is built), so its variables are saved with it."""
    twin = K.models.clone_model(network)
    twin.set_weights(network.get_weights())
    twin.trainable = False
    return twin


def average_into(averages, variables, decay: float, step):
    """One step of a weight moving average, with TensorFlow's ExponentialMovingAverage
    warm-up: the decay is min(decay, (1 + step) / (10 + step)), so early averages follow
    the fast-changing weights instead of clinging to their random start."""
    d = ops.minimum(decay, (1.0 + ops.cast(step, "float32")) / (10.0 + ops.cast(step, "float32")))
    for average, value in zip(averages, variables, strict=True):
        average.assign(d * average + (1.0 - d) * ops.cast(value, average.dtype))


class GeneratorOptimizerModel(K.Model):
    """What both GANs share beyond their networks: trackers as metrics, seeded noise, and
    G's optimizer state carried in get/set_weights.

    The epoch writer snapshots get_weights() + optimizer.variables to write checkpoints off
    the training thread; G's optimizer rides along with the weights so the copy it saves
    holds both optimizers' state. Subclasses set ``g_optimizer``, ``trackers``,
    ``latent_size`` and ``seed_generator``.
    """

    def _g_state(self):
        opt = self.g_optimizer
        return list(opt.variables) if opt is not None and opt.built else []

    def get_weights(self):
        return super().get_weights() + [ops.convert_to_numpy(v) for v in self._g_state()]

    def set_weights(self, weights):
        own = len(self.weights)
        super().set_weights(weights[:own])
        extra, state = weights[own:], self._g_state()
        if extra and len(extra) != len(state):
            raise ValueError(f"expected {len(state)} generator-optimizer arrays, got "
                             f"{len(extra)}")
        for variable, value in zip(state, extra, strict=False):
            variable.assign(value)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _noise(self, n):
        return K.random.normal((n, self.latent_size), seed=self.seed_generator)

    # -- compiling: two optimizers, both saved in the .keras file ---------------------
    def get_compile_config(self):
        ser = K.saving.serialize_keras_object
        return {"d_optimizer": ser(self.optimizer), "g_optimizer": ser(self.g_optimizer)}

    def compile_from_config(self, config):
        des = K.saving.deserialize_keras_object
        self.compile(d_optimizer=des(config["d_optimizer"]),
                     g_optimizer=des(config["g_optimizer"]))
        # Slots must exist before load_model assigns the saved Adam moments to them (an
        # SSGAN's compile already built them).
        for optimizer, network in ((self.optimizer, self.discriminator),
                                   (self.g_optimizer, self.generator)):
            if not optimizer.built:
                optimizer.build(network.trainable_variables)


@K.saving.register_keras_serializable(package="cnnstudio")
class Gan(GeneratorOptimizerModel):
    """G and D trained in turn: D on real (target 1 − smoothing) and fake (target 0) images,
    then G to make D call its images real (the non-saturating loss).

    ``r1`` > 0 adds the R1 penalty (Mescheder, Geiger & Nowozin 2018) to D's loss:
    γ/2 · E‖∇ₓ D(x)‖² on real images, which keeps D smooth around the data so that a
    stronger D stays trainable. ``d_width`` and ``d_kernel`` size dcgan's D (0: ``width``).
    Their defaults (0, 4, 0) are the models saved before these options existed."""

    def __init__(self, kind: str = "mlp", image_shape=(28, 28, 1), latent_size: int = 100,
                 width: int = 128, smoothing: float = 0.1, ema: float = 0.0,
                 d_width: int = 0, d_kernel: int = 4, r1: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.kind, self.image_shape = kind, tuple(int(s) for s in image_shape)
        self.latent_size, self.width = int(latent_size), int(width)
        # A saved file's config meets the same specs as the form and the run config.
        self.smoothing = require(SMOOTHING, smoothing)
        self.ema, self.r1 = require(EMA, ema), require(R1, r1)
        self.d_width, self.d_kernel = int(d_width), int(d_kernel)
        if kind == "dcgan":
            self.generator, self.discriminator = dcgan_networks(
                self.image_shape, self.latent_size, self.width, self.d_width, self.d_kernel)
        else:
            self.generator, self.discriminator = mlp_networks(
                self.image_shape, self.latent_size, self.width)
        self.generator_ema = averaged_copy(self.generator) if self.ema else None
        self.seed_generator = K.random.SeedGenerator()   # drawn from the run's seed
        self.g_optimizer = None
        self.trackers = {name: K.metrics.Mean(name=name)
                         for name in ("d_loss", "g_loss", "d_real", "d_fake")}
        self.build((None, *self.image_shape))

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "image_shape": self.image_shape,
                "latent_size": self.latent_size, "width": self.width,
                "smoothing": self.smoothing, "ema": self.ema, "d_width": self.d_width,
                "d_kernel": self.d_kernel, "r1": self.r1}

    def build(self, input_shape=None):
        self.built = True       # G and D are built Sequentials already

    def call(self, images, training=False):
        """D's probability that each image (pixel values 0..255) is real."""
        x = ops.cast(images, "float32") / 127.5 - 1.0
        return ops.sigmoid(self.discriminator(x, training=training))

    def generate(self, z, training=False):
        """G's images for latent points ``z``, in [−1, 1]: from the moving average of G's
        weights when the model keeps one (``ema``), else from G itself."""
        G = self.generator if self.generator_ema is None else self.generator_ema
        return G(z, training=training)

    # -- compiling: two optimizers, both saved --------------------------------------
    def compile(self, d_optimizer=None, g_optimizer=None, optimizer=None, **kwargs):
        d_optimizer = d_optimizer or optimizer or K.optimizers.Adam(2e-4, beta_1=0.5)
        super().compile(optimizer=d_optimizer, **kwargs)
        self.g_optimizer = g_optimizer or K.optimizers.Adam(2e-4, beta_1=0.5)

    def train_step(self, data):
        from cnnstudio.core.training.gradients_tf import value_and_grads, with_input_gradient

        x = data[0] if isinstance(data, (tuple, list)) else data
        real = ops.cast(x, "float32") / 127.5 - 1.0
        n = ops.shape(real)[0]
        G, D = self.generator, self.discriminator
        z = self._noise(n)

        def d_loss_fn():
            fake = G(z, training=True)
            if self.r1:
                real_logits, norms = with_input_gradient(D, real)
            else:
                real_logits = D(real, training=True)
            fake_logits = D(fake, training=True)
            loss = _bce(1.0 - self.smoothing, real_logits) + _bce(0.0, fake_logits)
            penalty = 0.5 * self.r1 * ops.mean(norms) if self.r1 else 0.0
            return loss + penalty, (real_logits, fake_logits, loss)

        # d_loss logs the cross-entropy alone, comparable with or without the penalty.
        _, (real_logits, fake_logits, d_loss), grads = value_and_grads(
            d_loss_fn, D.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, D.trainable_variables, strict=True))

        z = self._noise(n)

        def g_loss_fn():
            return _bce(1.0, D(G(z, training=True), training=True)), None

        g_loss, _, grads = value_and_grads(g_loss_fn, G.trainable_variables)
        self.g_optimizer.apply_gradients(zip(grads, G.trainable_variables, strict=True))
        if self.generator_ema is not None:    # batch norm's running statistics averaged too
            average_into(self.generator_ema.weights, G.weights, self.ema,
                         self.g_optimizer.iterations)

        t = self.trackers
        t["d_loss"].update_state(d_loss)
        t["g_loss"].update_state(g_loss)
        t["d_real"].update_state(ops.mean(ops.sigmoid(real_logits)))
        t["d_fake"].update_state(ops.mean(ops.sigmoid(fake_logits)))
        return {name: m.result() for name, m in t.items()}


def build_mlp_gan(shape, latent_size=100, hidden_units=256, smoothing=0.1, ema=0.0) -> Gan:
    return Gan("mlp", shape, latent_size, hidden_units, smoothing, ema, name="gan_mlp")


def build_dcgan(shape, latent_size=100, filters=32, smoothing=0.1, ema=0.0, d_filters=0,
                d_kernel=4, r1=0.0) -> Gan:
    return Gan("dcgan", shape, latent_size, filters, smoothing, ema, d_filters, d_kernel, r1,
               name="dcgan")
