"""The generative family (book chapters 6 and 8): convolutional autoencoders, the MNIST GAN,
DCGAN and the semi-supervised GAN — models, tasks, data and probes in one place.

Each module below registers its architectures and its task when imported; the
Keras classes live in ``*_models.py`` modules, imported only when a model is built
or loaded (``import cnnstudio`` stays free of TensorFlow).
"""

from cnnstudio.core.families.generative import autoencoder, gan, ssgan  # noqa: F401
