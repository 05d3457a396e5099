"""Whether a downloadable dataset is already in the Keras cache (so picking it costs nothing).

The core downloads on demand; the GUI only needs to know whether loading a
dataset now would start a download, to ask first instead of surprising the user.
"""

from __future__ import annotations

from cnnstudio.core.datasets import keras_downloads as kd

_FILES = {"mnist": [kd.MNIST_FILE], "fashion-mnist": kd.FASHION_FILES,
          "cifar10": [kd.CIFAR10_FILE], "cifar100": [kd.CIFAR100_FILE]}


def is_cached(dataset_id: str) -> bool:
    files = _FILES.get(dataset_id)
    if files is None:
        return True             # offline or folder datasets: nothing to download
    cache = kd.keras_cache_dir()
    return all((cache / (f.extract_to or f.target)).exists() for f in files)
