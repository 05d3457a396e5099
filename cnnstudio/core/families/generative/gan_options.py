"""The GANs' options that their Keras models check too (a saved file's config), declared once
for ``gan.py``/``ssgan.py`` (the architectures) and ``gan_models.py``/``ssgan_models.py``."""

from __future__ import annotations

from cnnstudio.core.options import Float, Int

LATENT_SIZE = Int("latent_size", 100, 1, 4096,
                  "length of the noise vector z the generator turns into an image")
SMOOTHING = Float("smoothing", 0.1, 0.0, 0.49, "one-sided label smoothing: D's target for real "
                  "images is 1 − smoothing")
EMA_HELP = ("decay of the moving average of G's weights that draws the samples (0.999 ≈ the "
            "last 1,000 steps; 0 samples from G's current weights). On for gan-mlp, off for "
            "dcgan: with batch norm in G the average scored lower on mnist-5k")
EMA = Float("ema", 0.0, 0.0, 0.9999, EMA_HELP, step=0.001, decimals=4)
R1 = Float("r1", 0.0, 0.0, 1000.0, "R1 penalty weight γ: D's loss gains γ/2 · E‖∇ₓD(x)‖² on "
           "real images, keeping D smooth around the data (0: off; 2 in the chapter-8 MNIST "
           "preset)", step=0.5)
D_KERNEL = Int("d_kernel", 4, 2, 7, "kernel side of D's convolutions (4 as in DCGAN; 5 in the "
               "chapter-8 MNIST preset)")

SSGAN_LATENT_SIZE = Int("latent_size", 100, 1, 4096, "length of the noise vector z the generator "
                  "turns into an image")
SSGAN_FILTERS = Int("filters", 64, 1, 4096, "conv network: filters of D's first convolution and G's last")
UNSUPERVISED_WEIGHT = Float("unsupervised_weight", 1.0, 0.0, 100.0, "weight of the real/fake "
                            "loss in D's loss; 0 trains D on the labels alone (the supervised "
                            "baseline)", step=0.1)
