"""The generative family's panels: the autoencoder panel and the GAN console."""
