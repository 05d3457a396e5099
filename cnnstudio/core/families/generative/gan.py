"""The book's GANs (chapter 8): ``gan-mlp`` (the MNIST GAN) and ``dcgan``, task "gan".

Light on purpose: registering them imports no Keras. The networks and their two-optimizer
``train_step`` live in ``gan_models.py``; data, compilation, evaluation and the sample-grid
probes in ``gan_task.py``; numpy helpers (grids, interpolation, diversity, GIF) in
``gan_probes.py``.
"""

from __future__ import annotations

from cnnstudio.core.errors import ModelError
from cnnstudio.core.families import register_model_module, register_task_module
from cnnstudio.core.families.profile import Plot, Profile, Series, register_profile
from cnnstudio.core.models import ARCHITECTURES
from cnnstudio.core.models.base import Architecture

MODELS = "cnnstudio.core.families.generative.gan_models"

COMMON_HELP = {
    "latent_size": "length of the noise vector z the generator turns into an image",
    "smoothing": "one-sided label smoothing: D's target for real images is 1 − smoothing",
    "ema": "decay of the moving average of G's weights that draws the samples (0.999 ≈ "
           "the last 1,000 steps; 0 samples from G's current weights). On for gan-mlp, "
           "off for dcgan: with batch norm in G the average scored lower on mnist-5k",
}


def _check(**sizes) -> None:
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 4096:
            raise ModelError(f"{name} must be an integer between 1 and 4096, got {value!r}")


def _build_mlp(input_shape, num_classes, latent_size=100, hidden_units=256, smoothing=0.1,
               ema=0.999):
    from cnnstudio.core.families.generative import gan_models

    _check(latent_size=latent_size, hidden_units=hidden_units)

    return gan_models.build_mlp_gan(input_shape, latent_size, hidden_units, smoothing, ema)


def _build_dcgan(input_shape, num_classes, latent_size=100, filters=32, smoothing=0.1,
                 ema=0.0):
    from cnnstudio.core.families.generative import gan_models

    _check(latent_size=latent_size, filters=filters)

    return gan_models.build_dcgan(input_shape, latent_size, filters, smoothing, ema)


GAN_MLP = Architecture(
    "gan-mlp", "GAN (MLP, book ch. 8)",
    "The book's MNIST GAN: a fully connected generator and discriminator with leaky ReLU, "
    "tanh images in [−1, 1], one-sided label smoothing and Adam.",
    "Goodfellow et al. 2014; the book's chapter 8", _build_mlp,
    defaults={"latent_size": 100, "hidden_units": 256, "smoothing": 0.1, "ema": 0.999},
    options_help={**COMMON_HELP, "hidden_units": "units of the hidden layer of G and of D"},
    task="gan", min_size=4)

DCGAN = Architecture(
    "dcgan", "DCGAN (book ch. 8)",
    "Deep convolutional GAN: a transposed-convolution generator with batch norm and a "
    "strided-convolution discriminator (28×28×1 MNIST, 32×32×3 CIFAR/SVHN).",
    "Radford, Metz & Chintala 2015; the book's chapter 8", _build_dcgan,
    defaults={"latent_size": 100, "filters": 32, "smoothing": 0.1, "ema": 0.0},
    options_help={**COMMON_HELP,
                  "filters": "filters of D's first convolution and G's last (doubling inward)"},
    task="gan", min_size=8)

for _arch in (GAN_MLP, DCGAN):
    ARCHITECTURES.register(_arch.id, _arch)

# A GAN has no validation set and no accuracy. Its losses do not measure sample quality
# (they chase each other), so the Runs panel ranks epochs by the lowest G loss — only a
# rough "D was fooled most" — and the console's grids are the real judge.
GAN_PROFILE = register_profile(Profile(
    "gan", "generative",
    (Plot("Losses", (Series("d_loss", "D loss"), Series("g_loss", "G loss")),
          validation=False, log_y=True),
     Plot("Discriminator outputs", (Series("d_real", "mean D(x)"),
                                    Series("d_fake", "mean D(G(z))")),
          validation=False, y_range=(0, 1))),
    prediction="discriminate", best_metric="g_loss", best_mode="min"))

register_model_module(MODELS)
register_task_module("cnnstudio.core.families.generative.gan_task")
