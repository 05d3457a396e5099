"""The dataset registry. A new source is one module that calls ``DATASETS.register``."""

from __future__ import annotations

from pathlib import Path

from cnnstudio.core.config import DatasetConfig
from cnnstudio.core.datasets.base import Dataset, DatasetSource
from cnnstudio.core.datasets.bundled import DIGITS, MNIST_5K
from cnnstudio.core.datasets.folder import FOLDER
from cnnstudio.core.datasets.keras_downloads import CIFAR10, CIFAR100, FASHION, MNIST
from cnnstudio.core.datasets.svhn import SVHN
from cnnstudio.core.registry import Registry

DATASETS: Registry[DatasetSource] = Registry("dataset")
for _source in (MNIST_5K, DIGITS, MNIST, FASHION, CIFAR10, CIFAR100, SVHN, FOLDER):
    DATASETS.register(_source.id, _source)

# The attention family's canvases (chapter 9), made from the digits above.
from cnnstudio.core.families.attention.canvas_datasets import CANVAS_SOURCES  # noqa: E402

for _source in CANVAS_SOURCES:
    DATASETS.register(_source.id, _source)

# … and its captioned shape scenes, generated offline.
from cnnstudio.core.families.attention.scene_dataset import SHAPE_SCENES  # noqa: E402

DATASETS.register(SHAPE_SCENES.id, SHAPE_SCENES)

# Detection datasets live with their family (instance masks); the module registers "shapes".
from cnnstudio.core.families.detection import shapes_data  # noqa: E402, F401


def is_folder_dataset(dataset_id: str) -> bool:
    return dataset_id not in DATASETS and Path(dataset_id).expanduser().is_dir()


def dataset_config(id_or_path: str, **options) -> DatasetConfig:
    """A registry id, or a folder path (→ the ``folder`` source with that path)."""
    if is_folder_dataset(id_or_path):
        return DatasetConfig("folder", {"path": str(Path(id_or_path).expanduser()), **options})
    return DatasetConfig(id_or_path, dict(options))


def load_dataset(config: DatasetConfig, progress=lambda event: None) -> Dataset:
    if is_folder_dataset(config.id):
        config = dataset_config(config.id, **config.options)
    return DATASETS.get(config.id).load(dict(config.options), progress)


__all__ = ["DATASETS", "Dataset", "DatasetSource", "dataset_config", "load_dataset",
           "is_folder_dataset"]
