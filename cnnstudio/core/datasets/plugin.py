"""The datasets every family shares: bundled digits, Keras's downloads, SVHN, image folders."""

from __future__ import annotations

from cnnstudio.core.registry import DATASETS


def register() -> None:
    from cnnstudio.core.datasets.bundled import DIGITS, MNIST_5K
    from cnnstudio.core.datasets.folder import FOLDER
    from cnnstudio.core.datasets.keras_downloads import CIFAR10, CIFAR100, FASHION, MNIST
    from cnnstudio.core.datasets.svhn import SVHN

    for source in (MNIST_5K, DIGITS, MNIST, FASHION, CIFAR10, CIFAR100, SVHN, FOLDER):
        DATASETS.register(source.id, source)
