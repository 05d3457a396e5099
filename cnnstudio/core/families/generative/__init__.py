"""The generative family (book chapters 6 and 8): convolutional autoencoders, the MNIST GAN,
DCGAN and the semi-supervised GAN — models, tasks, data and probes in one place.

What it adds to the studio is declared in ``plugin.py``; the Keras classes live in
``*_models.py`` modules, imported only when a model is built or loaded (``import
cnnstudio`` stays free of TensorFlow).
"""
