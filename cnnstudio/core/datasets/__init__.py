"""Datasets: the sources every family can train on (registered by ``plugin.py`` here) and
the lookups that turn an id or a folder path into a loaded dataset."""

from __future__ import annotations

from pathlib import Path

from cnnstudio.core.config import DatasetConfig
from cnnstudio.core.datasets.base import Dataset, DatasetSource, is_folder_dataset
from cnnstudio.core.registry import DATASETS


def dataset_config(id_or_path: str, **options) -> DatasetConfig:
    """A registry id, or a folder path (→ the ``folder`` source with that path)."""
    if is_folder_dataset(id_or_path):
        return DatasetConfig("folder", {"path": str(Path(id_or_path).expanduser()), **options})
    return DatasetConfig(id_or_path, dict(options))


def load_dataset(config: DatasetConfig, progress=lambda event: None) -> Dataset:
    if is_folder_dataset(config.id):
        config = dataset_config(config.id, **config.options)
    dataset = DATASETS.get(config.id).load(dict(config.options), progress)
    if config.options.get("label_decisions"):      # relabelled / excluded training images
        from cnnstudio.core.probes.label_decisions import apply_file

        dataset = apply_file(dataset, config)
    return dataset


__all__ = ["DATASETS", "Dataset", "DatasetSource", "dataset_config", "load_dataset",
           "is_folder_dataset"]
