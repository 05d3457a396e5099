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
                 ema=0.0, d_filters=0, d_kernel=4, r1=0.0):
    from cnnstudio.core.families.generative import gan_models

    _check(latent_size=latent_size, filters=filters)
    if isinstance(d_filters, bool) or not isinstance(d_filters, int) or not 0 <= d_filters <= 4096:
        raise ModelError(f"d_filters must be 0 (the same as filters) or an integer between 1 "
                         f"and 4096, got {d_filters!r}")
    if isinstance(d_kernel, bool) or not isinstance(d_kernel, int) or not 2 <= d_kernel <= 7:
        raise ModelError(f"d_kernel must be an integer between 2 and 7, got {d_kernel!r}")
    return gan_models.build_dcgan(input_shape, latent_size, filters, smoothing, ema,
                                  d_filters, d_kernel, r1)


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
    defaults={"latent_size": 100, "filters": 32, "smoothing": 0.1, "ema": 0.0,
              "d_filters": 0, "d_kernel": 4, "r1": 0.0},
    options_help={**COMMON_HELP,
                  "filters": "filters of G's last transposed convolution, doubling inward, and "
                             "of D's first convolution unless d_filters says otherwise",
                  "d_filters": "filters of D's first convolution, doubling inward (0: the same "
                               "as filters); 64 with r1 in the chapter-8 MNIST preset",
                  "d_kernel": "kernel side of D's convolutions (4 as in DCGAN; 5 in the "
                              "chapter-8 MNIST preset)",
                  "r1": "R1 penalty weight γ: D's loss gains γ/2 · E‖∇ₓD(x)‖² on real "
                        "images, keeping D smooth around the data (0: off; 2 in the "
                        "chapter-8 MNIST preset)"},
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
