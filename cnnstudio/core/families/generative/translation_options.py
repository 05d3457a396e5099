"""The options of pix2pix and CycleGAN that their Keras models check too (a saved file's
config), declared once for ``pix2pix.py``/``cyclegan.py`` (the architectures) and
``pix2pix_models.py``/``cyclegan_models.py`` — in a module of their own so a model module
and its light registration module do not import each other."""

from __future__ import annotations

from cnnstudio.core.options import Choice, Float, Int

# -- pix2pix ----------------------------------------------------------------------------------
PIX2PIX_FILTERS = Int("filters", 32, 1, 512, "filters of the U-Net's first convolution and of the "
              "PatchGAN's, doubling per level up to 8× (the paper: 64)")
L1_WEIGHT = Float("l1_weight", 100.0, 0.0, 10_000.0, "λ: weight of the L1 distance to the "
                  "target in G's loss (the paper: 100)", step=10.0)
GAN_WEIGHT = Float("gan_weight", 1.0, 0.0, 100.0, "weight of the adversarial (cGAN) loss in "
                   "G's loss; 0 trains G on L1 alone — the blurry baseline", step=0.1)
PATCH_LAYERS = Int("patch_layers", 3, 0, 5, "stride-2 layers of the PatchGAN: each logit "
                   "judges a patch of 16 (1), 34 (2), 70 (3, the paper) or 142 (4) px")
DROPOUT = Float("dropout", 0.5, 0.0, 0.9, "dropout on the U-Net's three innermost decoder "
                "blocks, the paper's noise source (0: none)")
PIX2PIX_SPECS = (PIX2PIX_FILTERS, L1_WEIGHT, GAN_WEIGHT, PATCH_LAYERS, DROPOUT)

# -- CycleGAN ---------------------------------------------------------------------------------
GENERATOR = Choice("generator", "unet", ("unet", "resnet"),
                   "the two generators: pix2pix's U-Net or the CycleGAN paper's ResNet "
                   "(stride-2 convolutions, residual blocks, transposed convolutions)")
CYCLEGAN_FILTERS = Int("filters", 32, 1, 1024, "filters of the generators' first layer and of the "
              "discriminators' first convolution, doubling inward")
CYCLE_WEIGHT = Float("cycle_weight", 10.0, 0.0, 1000.0,
                     "λ: weight of the cycle losses |F(G(a)) − a| and |G(F(b)) − b| (0: no "
                     "cycle loss — watch the content drift)", step=1.0)
IDENTITY_WEIGHT = Float("identity_weight", 0.5, 0.0, 10.0,
                        "weight of the identity losses |G(b) − b| and |F(a) − a|, as a "
                        "fraction of λ (0.5 as in the paper; 0: off)", step=0.1)
POOL_SIZE = Int("pool_size", 50, 0, 1000, "past fakes kept for each discriminator (half "
                "of what D sees comes from them once full; 0: the current batch only)")
CYCLEGAN_SPECS = (GENERATOR, CYCLEGAN_FILTERS, CYCLE_WEIGHT, IDENTITY_WEIGHT, POOL_SIZE)
