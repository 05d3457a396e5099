"""The semi-supervised GAN (book chapter 8; Salimans et al. 2016) — registration only.

Light on purpose (no Keras here): the architecture ``ssgan`` (28×28×1 and 32×32×3), the
profile of the ``ssgan`` task, and the names of the modules that hold the Keras model
(``ssgan_models``) and the task (``ssgan_task``). The losses, written once for numpy and
keras.ops, are in ``ssgan_losses``.
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.families.generative.gan_options import (
    SSGAN_FILTERS as FILTERS,
)
from cnnstudio.core.families.generative.gan_options import (
    SSGAN_LATENT_SIZE as LATENT_SIZE,
)
from cnnstudio.core.families.generative.gan_options import UNSUPERVISED_WEIGHT
from cnnstudio.core.families.profile import Plot, Profile, Series
from cnnstudio.core.options import Choice, Float, Int

TASK = "ssgan"

# D is also a classifier, so the Runs panel ranks epochs by held-out accuracy.
PROFILE = Profile(
    TASK, "generative",
    (Plot("Losses", (Series("d_loss", "D loss (supervised + unsupervised)"),
                     Series("g_loss", "G loss (feature matching)")),
          validation=False, log_y=True),
     Plot("Accuracy", (Series("accuracy", "accuracy (labelled batch)"),), y_range=(0, 1)),
     Plot("Discriminator outputs", (Series("d_real", "mean D(x)"),
                                    Series("d_fake", "mean D(G(z))")),
          validation=False, y_range=(0, 1))),
    prediction="discriminate", best_metric="val_accuracy", best_mode="max")


def _build(input_shape, num_classes, latent_size=100, network="auto", filters=64,
           labelled_per_class=10, unsupervised_weight=1.0, ema=0.99):
    from cnnstudio.core.families.generative import ssgan_models

    return ssgan_models.build(input_shape, num_classes, latent_size, network, filters,
                              labelled_per_class, unsupervised_weight, ema)


SSGAN = Architecture(
    "ssgan", "Semi-supervised GAN (book ch. 8)",
    "A GAN whose discriminator is a K-class classifier: its real/fake logit is the "
    "log-sum-exp of the class logits. D learns from a few labelled images plus all the "
    "unlabelled ones and G's fakes; G learns by feature matching. With 10 labels per "
    "class it classifies far better than the same network trained on the labels alone.",
    "Salimans et al. 2016, Improved Techniques for Training GANs; the book's chapter 8",
    _build,
    specs=(LATENT_SIZE,
           Choice("network", "auto", ("auto", "mlp", "conv"),
                  "auto (MLP with Gaussian noise for grey images, conv for colour), mlp or conv"),
           FILTERS,
           Int("labelled_per_class", 10, 1, 100_000, "training images per class whose label "
               "is used (seeded choice); the rest are used without labels"),
           UNSUPERVISED_WEIGHT,
           Float("ema", 0.99, 0.0, 0.9999, "decay of the moving average of D's weights that "
                 "classifies and judges images after training steps (Improved GAN's "
                 "parameter averaging; 0: D's current weights)", step=0.001, decimals=4)),
    task=TASK, min_size=8)

