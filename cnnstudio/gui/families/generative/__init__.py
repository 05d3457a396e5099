"""The generative family's panels: the autoencoder panel and the GAN console."""

from cnnstudio.gui.families.generative import (  # noqa: F401
    autoencoder_panel,
    reconstruction_view,
)
