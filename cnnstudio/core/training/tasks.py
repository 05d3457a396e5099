"""How a family of models is trained: data preparation, compilation and evaluation.

The engine is the same for every family; a task supplies these three steps.
``classification`` covers the book's classic CNNs. Families with their own
``train_step`` (GAN, recurrent attention, Mask R-CNN) register their own task.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import ArraySplit, Dataset
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.registry import Registry
from cnnstudio.core.training.batches import FileBatches, arrays_for, split_indices
from cnnstudio.core.training.events import Notice


@dataclass
class FitData:
    """What ``model.fit`` gets, plus the counts the engine reports."""
    fit_kwargs: dict[str, Any]
    test: Any                     # (x, y) arrays or a PyDataset
    num_train: int
    num_val: int
    num_test: int
    steps_per_epoch: int
    extra: dict[str, Any] = field(default_factory=dict)


def make_optimizer(cfg: TrainConfig):
    opt = keras().optimizers
    lr = float(cfg.learning_rate)
    if cfg.optimizer == "sgd":
        return opt.SGD(learning_rate=lr, momentum=0.9)
    return {"adam": opt.Adam, "rmsprop": opt.RMSprop, "adamw": opt.AdamW,
            "adagrad": opt.Adagrad, "nadam": opt.Nadam}[cfg.optimizer](learning_rate=lr)


class ClassificationTask:
    name = "classification"

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        train, bs, seed = dataset.train, cfg.batch_size, cfg.seed
        tr_idx, val_idx = split_indices(len(train), cfg.validation_split, seed)

        def skipped(path, reason):
            sink(Notice(f"skipped {reason}"))

        if isinstance(train, ArraySplit):
            x, y = arrays_for(train, tr_idx, shape)
            kwargs = {"x": x, "y": y, "batch_size": bs, "shuffle": True}
            if len(val_idx):
                kwargs["validation_data"] = arrays_for(train, val_idx, shape)
        else:
            kwargs = {"x": FileBatches(train, tr_idx, bs, True, seed, skipped)}
            if len(val_idx):
                kwargs["validation_data"] = FileBatches(train, val_idx, bs, False, seed, skipped)
        test = dataset.test
        if isinstance(test, ArraySplit):
            test_data = arrays_for(test, np.arange(len(test)), shape)
        else:
            test_data = FileBatches(test, np.arange(len(test)), bs, False, seed, skipped)
        return FitData(kwargs, test_data, len(tr_idx), len(val_idx), len(test),
                       math.ceil(len(tr_idx) / bs))

    def compile(self, model, cfg: TrainConfig) -> None:
        model.compile(optimizer=make_optimizer(cfg), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])

    def evaluate(self, model, data: FitData, batch_size: int) -> dict[str, float]:
        if data.num_test == 0:
            return {}
        if isinstance(data.test, tuple):
            logs = model.evaluate(*data.test, batch_size=batch_size, verbose=0, return_dict=True)
        else:
            logs = model.evaluate(data.test, verbose=0, return_dict=True)
        return {k: float(v) for k, v in logs.items()}


TASKS: Registry = Registry("task")
TASKS.register("classification", ClassificationTask())
