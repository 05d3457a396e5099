"""What every dataset source produces: a Dataset of uint8 images with integer labels.

A split is either in memory (``ArraySplit``) or a list of files read on demand
(``FileSplit``, for folders too large to hold). Both answer ``images(indices)``
so previews, training batches and probes use one code path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.core.errors import ImageError
from cnnstudio.core.imaging import fit_to_shape, read_image
from cnnstudio.core.options import OptionSet, OptionSpec, Text

Shape = tuple[int, int, int]
ProgressFn = Callable[[Any], None]


class _Labelled:
    """A split's labels ``y``: its length and ``labels`` (what samplers and counts read)."""
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    @property
    def labels(self) -> np.ndarray:
        return self.y


@dataclass
class ArraySplit(_Labelled):
    x: np.ndarray           # uint8 (N, H, W, C)
    y: np.ndarray           # int32 (N,)
    # The file of each image when it was read from one (a folder): label decisions name it.
    # Keyword-only, so the subclasses' own fields (annotations, captions, tasks) keep their places.
    paths: list[Path] | None = field(default=None, kw_only=True)

    def images(self, indices) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
        indices = np.asarray(indices, dtype=np.int64)
        return self.x[indices], self.y[indices], []


@dataclass
class FileSplit(_Labelled):
    paths: list[Path]
    y: np.ndarray
    shape: Shape            # every image is fitted to this when read

    def images(self, indices) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
        """Read the given files; unreadable ones are left out and returned as (path, reason)."""
        images, labels, skipped = [], [], []
        for i in np.asarray(indices, dtype=np.int64):
            try:
                images.append(fit_to_shape(read_image(self.paths[i]), self.shape))
                labels.append(self.y[i])
            except ImageError as exc:
                skipped.append((str(self.paths[i]), str(exc)))
        x = np.stack(images) if images else np.zeros((0, *self.shape), np.uint8)
        return x, np.asarray(labels, dtype=np.int32), skipped


Split = ArraySplit | FileSplit

# The Suspect labels tab's keep / relabel / exclude choices (core/probes/label_decisions.py):
# a dataset option, since they change what the data is; ``load_dataset`` applies them to the
# training split of each classification source that lists it. The user's files never change.
LABEL_DECISIONS = Text("label_decisions", None, "a label decisions file (the Suspect labels "
                       "tab, cnnstudio audit): its relabelled and excluded training images "
                       "are applied; your image files never change")


@dataclass
class Dataset:
    id: str
    name: str
    class_names: list[str]
    input_shape: Shape
    train: Split
    test: Split
    description: str = ""
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (file, reason)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def counts(self, split: str = "train") -> list[int]:
        labels = getattr(self, split).labels
        return np.bincount(labels, minlength=self.num_classes).tolist()

    def preview(self, per_class: int = 4, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """Up to ``per_class`` images of each class, class by class, for sample grids."""
        data = getattr(self, split)
        picks = []
        for c in range(self.num_classes):
            picks.extend(np.flatnonzero(data.labels == c)[:per_class].tolist())
        x, y, _ = data.images(picks)
        return x, y

    def info(self) -> dict[str, Any]:
        from cnnstudio.core.photo_prep import training_stats

        # What the training images look like, so predictions can bring photos to that form.
        stats = training_stats(self.train.x) if isinstance(self.train, ArraySplit) else None
        return {
            "id": self.id, "name": self.name, "input_shape": list(self.input_shape),
            "class_names": list(self.class_names), "num_train": len(self.train),
            "num_test": len(self.test), "train_counts": self.counts("train"),
            "test_counts": self.counts("test"), "description": self.description,
            "image_stats": stats,
        }


@dataclass
class DatasetSource:
    """A registry entry: describes a dataset without loading it, and loads it on demand."""
    id: str
    name: str
    description: str
    input_shape: Shape | None           # None when only known after scanning (folders)
    class_names: list[str] | None
    load: Callable[[dict[str, Any], ProgressFn], Dataset]
    needs_download: bool = False
    # Its options, declared once; a default of None leaves the value to the loader.
    specs: tuple[OptionSpec, ...] = ()

    @property
    def options_help(self) -> dict[str, str]:
        return {s.name: s.help for s in self.specs}

    def option_problems(self, options: dict[str, Any] | None) -> list[str]:
        return OptionSet(self.specs).problems(options, self.id)

    def shape_for(self, options: dict[str, Any]) -> Shape | None:
        size = options.get("size")
        if self.input_shape is None or not size:
            return self.input_shape
        return (int(size), int(size), self.input_shape[2])


def fixed_split(labels: np.ndarray, test_per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A stratified train/test split that never changes between runs (fixed seed)."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test.extend(idx[:test_per_class])
        train.extend(idx[test_per_class:])
    return np.sort(np.asarray(train)), np.sort(np.asarray(test))


def upscale_option(options: dict[str, Any], native: int) -> int:
    from cnnstudio.core.errors import DataError

    size = options.get("size", native)
    if not isinstance(size, int) or isinstance(size, bool) or not native <= size <= 512:
        raise DataError(f"size must be an integer between {native} and 512, got {size!r}")
    return size


def is_folder_dataset(dataset_id: str) -> bool:
    """A folder path rather than a registered dataset id."""
    from cnnstudio.core.registry import DATASETS

    return dataset_id not in DATASETS and Path(dataset_id).expanduser().is_dir()
