"""CycleGAN (book chapter 8; Zhu, Park, Isola & Efros 2017) — registration only.

Light on purpose (no Keras here): the architecture ``cyclegan``, its options (declared once,
also checked by the Keras model when a saved file is loaded) and the profile of the
``cyclegan`` task. The model is in ``cyclegan_models``, the task in ``cyclegan_task``, the
per-epoch probes in ``cyclegan_probes``, the unpaired datasets in ``unpaired_data``.
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.families.generative.translation_options import CYCLEGAN_SPECS as SPECS
from cnnstudio.core.families.profile import Plot, Profile, Series

TASK = "cyclegan"
MODELS = "cnnstudio.core.families.generative.cyclegan_models"


# Losses of adversaries chase each other; the cycle loss of A says how well content survives
# a round trip, so the Runs panel ranks epochs by it (a rough guide: the probes judge).
PROFILE = Profile(
    TASK, "generative",
    (Plot("Adversarial losses (LSGAN)",
          (Series("d_a_loss", "D_A loss"), Series("d_b_loss", "D_B loss"),
           Series("g_loss", "G: A→B fools D_B"), Series("f_loss", "F: B→A fools D_A")),
          validation=False, log_y=True),
     Plot("Cycle and identity losses (L1, pixels in [−1, 1])",
          (Series("cycle_a", "|F(G(a)) − a|"), Series("cycle_b", "|G(F(b)) − b|"),
           Series("identity", "|G(b) − b| + |F(a) − a|")),
          validation=False, log_y=True)),
    prediction="translate-cycle", best_metric="cycle_a", best_mode="min")


def _build(input_shape, num_classes, generator="unet", filters=32, cycle_weight=10.0,
           identity_weight=0.5, pool_size=50):
    from cnnstudio.core.families.generative import cyclegan_models

    return cyclegan_models.CycleGan(input_shape, generator, filters, cycle_weight,
                                    identity_weight, pool_size, name="cyclegan")


CYCLEGAN = Architecture(
    "cyclegan", "CycleGAN (book ch. 8)",
    "Two generators, G: A→B and F: B→A, and two PatchGAN discriminators learn to translate "
    "between image domains that share no pairs: LSGAN losses make translations look like the "
    "other domain, the cycle loss (F(G(a)) ≈ a) keeps their content, and a pool of past "
    "fakes steadies the discriminators.",
    "Zhu, Park, Isola & Efros 2017, Unpaired Image-to-Image Translation using "
    "Cycle-Consistent Adversarial Networks; the book's chapter 8",
    _build, specs=SPECS, task=TASK, min_size=8, min_classes=1)
