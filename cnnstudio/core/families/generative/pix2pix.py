"""pix2pix (book chapter 8; Isola et al. 2017), task "pix2pix" — registration only.

Light on purpose (no Keras here): the architecture, its options (declared once: the form,
the config check and the saved model's config all read them) and the task's profile.
The Keras model is in ``pix2pix_models``, the task in ``pix2pix_task``, the per-epoch
probes in ``pix2pix_probes``, the paired datasets in ``translation_data`` and the U-Net
and PatchGAN in ``translation_networks``.
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.families.generative.translation_options import PIX2PIX_SPECS as SPECS
from cnnstudio.core.families.profile import Plot, Profile, Series

TASK = "pix2pix"


# The training L1 is logged on the 0..1 pixel scale (the probes' and evaluation's too), so
# the Runs panel ranks epochs by it: the lower, the closer G's images are to the targets.
PROFILE = Profile(
    TASK, "generative",
    (Plot("Losses", (Series("d_loss", "D loss"), Series("g_gan", "G adversarial loss")),
          validation=False, log_y=True),
     Plot("L1 to the target (pixels 0..1)", (Series("g_l1", "mean |G(x) − y|"),),
          validation=False),
     Plot("Discriminator outputs", (Series("d_real", "mean D(x, y)"),
                                    Series("d_fake", "mean D(x, G(x))")),
          validation=False, y_range=(0, 1))),
    prediction="translate", best_metric="g_l1", best_mode="min")


def _build(input_shape, num_classes, filters=32, l1_weight=100.0, gan_weight=1.0,
           patch_layers=3, dropout=0.5, target_shape=None):
    """A Pix2Pix model; ``target_shape`` comes from the paired dataset (pix2pix_task), and
    is 3 channels at the input's size where no dataset is at hand (a model summary)."""
    from cnnstudio.core.families.generative import pix2pix_models

    target = tuple(target_shape or (*input_shape[:2], 3))
    return pix2pix_models.build(tuple(input_shape), target, filters, l1_weight, gan_weight,
                                patch_layers, dropout)


PIX2PIX = Architecture(
    "pix2pix", "pix2pix (book ch. 8)",
    "A conditional GAN that learns to turn one kind of image into another from pairs "
    "(edges → photo): a U-Net generator with skip connections and dropout as noise, and a "
    "PatchGAN discriminator that judges each patch of (input, output) as real or fake. "
    "G's loss is the cGAN loss + λ·L1; gan_weight 0 gives the blurry L1-only baseline.",
    "Isola, Zhu, Zhou & Efros 2017, Image-to-Image Translation with Conditional Adversarial "
    "Networks; the book's chapter 8", _build, specs=SPECS, task=TASK, min_size=8,
    min_classes=1)
