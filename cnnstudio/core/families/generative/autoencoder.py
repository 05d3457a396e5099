"""Chapter 6: the convolutional autoencoder, plain or denoising — registration only.

Light on purpose (no Keras here): the architecture ``conv-autoencoder``, the profile of
the ``autoencoder`` task (one curve, the reconstruction loss; a dropped image is
reconstructed), and the names of the modules that hold the Keras model
(``autoencoder_models``) and the task (``autoencoder_task``). Probes — compression,
code maps, image search, PSNR — are in ``autoencoder_probes``.
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.families.profile import Plot, Profile, Series
from cnnstudio.core.options import Bool, Float, Int

TASK = "autoencoder"

PROFILE = Profile(
    TASK, "generative",
    (Plot("Reconstruction loss", (Series("loss", "loss"),), log_y=True),),
    prediction="reconstruct", best_metric="val_loss", best_mode="min")


def _build(input_shape, num_classes, code_channels=0, filters=0, denoise=False,
           noise_factor=0.5):
    from cnnstudio.core.families.generative import autoencoder_models

    return autoencoder_models.build(input_shape, filters=int(filters),
                                    code_channels=int(code_channels), denoise=bool(denoise),
                                    noise_factor=float(noise_factor))


CONV_AUTOENCODER = Architecture(
    id="conv-autoencoder", name="Convolutional autoencoder (chapter 6)",
    description=("The book's convolutional autoencoder: three conv + max-pool steps squeeze a "
                 "28×28 digit into a 4×4×8 code (128 numbers, 16 % of the pixels) and an "
                 "upsampling decoder rebuilds it. With denoise on, it learns to remove "
                 "Gaussian noise it adds to its own inputs. 32×32×3 images get a 4×4×32 code."),
    source="Chapter 6, convolutional and denoising autoencoders (Keras blog, F. Chollet)",
    build_fn=_build,
    specs=(Int("code_channels", 0, 0, 1024, "channels of the 4×4 code (0: 8 for grey, 32 for "
               "colour)"),
           Int("filters", 0, 0, 1024, "filters of the first conv (0: 16 for grey, 64 for colour)"),
           Bool("denoise", False, "add Gaussian noise to the inputs and learn to remove it"),
           Float("noise_factor", 0.5, 0.0, 1.0, "noise standard deviation on [0, 1] pixels "
                 "(book: 0.5)")),
    task=TASK, min_size=8, preferred_size=28, min_classes=1)

