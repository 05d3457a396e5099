"""The book's GANs (chapter 8): ``gan-mlp`` (the MNIST GAN) and ``dcgan``, task "gan".

Light on purpose: registering them imports no Keras. The networks and their two-optimizer
``train_step`` live in ``gan_models.py``; data, compilation, evaluation and the sample-grid
probes in ``gan_task.py``; numpy helpers (grids, interpolation, diversity, GIF) in
``gan_probes.py``.
"""

from __future__ import annotations

from dataclasses import replace

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.families.generative.gan_options import (
    D_KERNEL,
    EMA,
    LATENT_SIZE,
    R1,
    SMOOTHING,
)
from cnnstudio.core.families.profile import Plot, Profile, Series
from cnnstudio.core.options import Int

MODELS = "cnnstudio.core.families.generative.gan_models"

def _build_mlp(input_shape, num_classes, latent_size=100, hidden_units=256, smoothing=0.1,
               ema=0.999):
    from cnnstudio.core.families.generative import gan_models

    return gan_models.build_mlp_gan(input_shape, latent_size, hidden_units, smoothing, ema)


def _build_dcgan(input_shape, num_classes, latent_size=100, filters=32, smoothing=0.1,
                 ema=0.0, d_filters=0, d_kernel=4, r1=0.0):
    from cnnstudio.core.families.generative import gan_models

    return gan_models.build_dcgan(input_shape, latent_size, filters, smoothing, ema,
                                  d_filters, d_kernel, r1)


GAN_MLP = Architecture(
    "gan-mlp", "GAN (MLP, book ch. 8)",
    "The book's MNIST GAN: a fully connected generator and discriminator with leaky ReLU, "
    "tanh images in [−1, 1], one-sided label smoothing and Adam.",
    "Goodfellow et al. 2014; the book's chapter 8", _build_mlp,
    specs=(LATENT_SIZE, Int("hidden_units", 256, 1, 4096, "units of the hidden layer of G and of D"),
           SMOOTHING, replace(EMA, default=0.999)),
    task="gan", min_size=4, min_classes=1)

DCGAN = Architecture(
    "dcgan", "DCGAN (book ch. 8)",
    "Deep convolutional GAN: a transposed-convolution generator with batch norm and a "
    "strided-convolution discriminator (28×28×1 MNIST, 32×32×3 CIFAR/SVHN).",
    "Radford, Metz & Chintala 2015; the book's chapter 8", _build_dcgan,
    specs=(LATENT_SIZE,
           Int("filters", 32, 1, 4096, "filters of G's last transposed convolution, doubling "
               "inward, and of D's first convolution unless d_filters says otherwise"),
           SMOOTHING, EMA,
           Int("d_filters", 0, 0, 4096, "filters of D's first convolution, doubling inward (0: "
               "the same as filters); 64 with r1 in the chapter-8 MNIST preset"),
           D_KERNEL, R1),
    task="gan", min_size=8, min_classes=1)


# A GAN has no validation set and no accuracy. Its losses do not measure sample quality
# (they chase each other), so the Runs panel ranks epochs by the lowest G loss — only a
# rough "D was fooled most" — and the console's grids are the real judge.
GAN_PROFILE = Profile(
    "gan", "generative",
    (Plot("Losses", (Series("d_loss", "D loss"), Series("g_loss", "G loss")),
          validation=False, log_y=True),
     Plot("Discriminator outputs", (Series("d_real", "mean D(x)"),
                                    Series("d_fake", "mean D(G(z))")),
          validation=False, y_range=(0, 1))),
    prediction="discriminate", best_metric="g_loss", best_mode="min")

