"""The generative family's panels: the autoencoder panel and the GAN console."""

from cnnstudio.gui.families.generative import (  # noqa: F401
    autoencoder_panel,
    gan_console,
    gan_prediction_view,
    reconstruction_view,
)
