"""The semi-supervised GAN (book chapter 8; Salimans et al. 2016) — registration only.

Light on purpose (no Keras here): the architecture ``ssgan`` (28×28×1 and 32×32×3), the
profile of the ``ssgan`` task, and the names of the modules that hold the Keras model
(``ssgan_models``) and the task (``ssgan_task``). The losses, written once for numpy and
keras.ops, are in ``ssgan_losses``.
"""

from __future__ import annotations

from cnnstudio.core.families import register_model_module, register_task_module
from cnnstudio.core.families.profile import Plot, Profile, Series, register_profile
from cnnstudio.core.models import ARCHITECTURES
from cnnstudio.core.models.base import Architecture

TASK = "ssgan"

# D is also a classifier, so the Runs panel ranks epochs by held-out accuracy.
PROFILE = register_profile(Profile(
    TASK, "generative",
    (Plot("Losses", (Series("d_loss", "D loss (supervised + unsupervised)"),
                     Series("g_loss", "G loss (feature matching)")),
          validation=False, log_y=True),
     Plot("Accuracy", (Series("accuracy", "accuracy (labelled batch)"),), y_range=(0, 1)),
     Plot("Discriminator outputs", (Series("d_real", "mean D(x)"),
                                    Series("d_fake", "mean D(G(z))")),
          validation=False, y_range=(0, 1))),
    prediction="discriminate", best_metric="val_accuracy", best_mode="max"))


def _build(input_shape, num_classes, latent_size=100, network="auto", filters=64,
           labelled_per_class=10, unsupervised_weight=1.0, ema=0.99):
    from cnnstudio.core.errors import ModelError
    from cnnstudio.core.families.generative import ssgan_models

    if not isinstance(labelled_per_class, int) or isinstance(labelled_per_class, bool) \
            or labelled_per_class < 1:
        raise ModelError(f"labelled_per_class must be a positive integer, got "
                         f"{labelled_per_class!r}")
    if network not in ("auto", *ssgan_models.NETWORKS):
        raise ModelError(f"unknown network '{network}' for ssgan — known: auto, "
                         f"{', '.join(ssgan_models.NETWORKS)}")
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
    defaults={"latent_size": 100, "network": "auto", "filters": 64,
              "labelled_per_class": 10, "unsupervised_weight": 1.0, "ema": 0.99},
    options_help={
        "latent_size": "length of the noise vector z the generator turns into an image",
        "network": "auto (MLP with Gaussian noise for grey images, conv for colour), mlp "
                   "or conv",
        "filters": "conv network: filters of D's first convolution and G's last",
        "labelled_per_class": "training images per class whose label is used (seeded "
                              "choice); the rest are used without labels",
        "unsupervised_weight": "weight of the real/fake loss in D's loss; 0 trains D on "
                               "the labels alone (the supervised baseline)",
        "ema": "decay of the moving average of D's weights that classifies and judges "
               "images after training steps (Improved GAN's parameter averaging; 0: D's "
               "current weights)"},
    task=TASK, min_size=8)

ARCHITECTURES.register(SSGAN.id, SSGAN)
register_model_module("cnnstudio.core.families.generative.ssgan_models")
register_task_module("cnnstudio.core.families.generative.ssgan_task")
