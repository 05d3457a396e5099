"""Feeding ``fit``: in-memory arrays as they are, file lists as a keras.utils.PyDataset.

PyDataset is backend-neutral (TensorFlow, JAX and PyTorch all accept it) and
reads batches on worker threads, so large folders stream from disk.
"""

from __future__ import annotations

import math

import numpy as np

from cnnstudio.core.datasets.base import ArraySplit, FileSplit
from cnnstudio.core.imaging import resize_batch
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.training.epoch_order import EpochOrdered


class FileBatches(EpochOrdered, keras().utils.PyDataset):
    def __init__(self, split: FileSplit, indices: np.ndarray, batch_size: int, shuffle: bool,
                 seed: int, on_skipped=None):
        super().__init__(workers=2, use_multiprocessing=False)
        self.split, self.indices = split, np.asarray(indices)
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, int(seed)
        self.on_skipped = on_skipped or (lambda path, reason: None)
        self.reported: set[str] = set()

    def __len__(self) -> int:
        return math.ceil(len(self.indices) / self.batch_size)

    def __getitem__(self, index):
        epoch, pos, _ = self.locate(index)
        return self.batch_at(epoch, pos)

    def draw(self, epoch: int) -> np.ndarray:
        # Each epoch's order from (seed, epoch): resumable.
        return self.rng(epoch).permutation(self.indices) if self.shuffle else self.indices

    def batch_at(self, epoch: int, pos: int):
        order = self.drawn(epoch)
        picks = order[pos * self.batch_size:(pos + 1) * self.batch_size]
        x, y, skipped = self.split.images(picks)
        for path, reason in skipped:
            if path not in self.reported:     # name each bad file once, not every epoch
                self.reported.add(path)
                self.on_skipped(path, reason)
        if len(y) == 0:       # a batch of only unreadable files: reuse one good image
            x, y, _ = self.split.images(self.indices[:1])
        return x, y


def split_indices(n: int, validation_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/validation index split (the same split on resume)."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * validation_split)) if validation_split > 0 else 0
    n_val = min(n_val, n - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def arrays_for(split: ArraySplit, indices: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    return resize_batch(split.x[indices], shape), split.y[indices]


def iter_batches(source, batch_size: int):
    """(x, y) batches from an (x, y) pair of arrays or from a PyDataset (its sample weights,
    if any, left out)."""
    if isinstance(source, tuple):
        x, y = source
        for i in range(0, len(y), batch_size):
            yield x[i:i + batch_size], y[i:i + batch_size]
    else:
        for i in range(len(source)):
            yield tuple(source[i][:2])
