"""How a family of models is trained: data preparation, compilation and evaluation.

The engine is the same for every family; a task supplies these steps:

    model = task.build_model(arch, shape, num_classes, model_options, cfg)
    data = task.prepare(dataset, shape, cfg, sink)
    task.compile(model, cfg, data)                       # fresh models only
    model.fit(**data.fit_kwargs, callbacks=[..., *task.callbacks(cfg, data, run_dir)])
    test = task.evaluate(model, data, batch_size)
    task.after_fit(model, data, run_dir)                 # evaluation.json

    hooks = task.probe_hooks(dataset, run_dir, sink, cfg)  # optional: per-epoch probes

Each task also has a ``profile`` (families/profile.py, registered by the family's light
module): the curves it plots and what the prediction dock does, so the studio shows
it without branching on its name.
``classification`` covers the book's classic CNNs. Families with their own
``train_step`` (GAN, recurrent attention, Mask R-CNN) register their own task.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnstudio.core import augment
from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import ArraySplit, Dataset
from cnnstudio.core.registry import Registry
from cnnstudio.core.training import hyper
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


def make_optimizer(cfg: TrainConfig, steps_per_epoch: int | None = None):
    return hyper.make_optimizer(cfg, steps_per_epoch)


class ClassificationTask:
    name = "classification"

    def build_model(self, arch, input_shape, num_classes, options, cfg: TrainConfig):
        """Build ``arch``, letting TrainConfig.batch_norm switch the architecture's own option."""
        options = dict(options or {})
        if cfg.batch_norm is not None and "batch_norm" in arch.defaults:
            options["batch_norm"] = cfg.batch_norm
        return arch.build(input_shape, num_classes, options)

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        train, bs, seed = dataset.train, cfg.batch_size, cfg.seed
        tr_idx, val_idx = split_indices(len(train), cfg.validation_split, seed)
        augmenting = augment.is_active(cfg.augmentation)

        def skipped(path, reason):
            sink(Notice(f"skipped {reason}"))

        if isinstance(train, ArraySplit):
            x, y = arrays_for(train, tr_idx, shape)
            if augmenting:
                kwargs = {"x": augment.augmented_batches(cfg.augmentation, seed, x=x, y=y,
                                                         batch_size=bs)}
            else:
                kwargs = {"x": x, "y": y, "batch_size": bs, "shuffle": True}
            if len(val_idx):
                kwargs["validation_data"] = arrays_for(train, val_idx, shape)
        else:
            batches = FileBatches(train, tr_idx, bs, True, seed, skipped)
            if augmenting:
                batches = augment.augmented_batches(cfg.augmentation, seed, source=batches)
            kwargs = {"x": batches}
            if len(val_idx):
                kwargs["validation_data"] = FileBatches(train, val_idx, bs, False, seed, skipped)
        if augmenting:
            sink(Notice("augmenting training images: " + ", ".join(
                f"{k} {v}" for k, v in sorted(cfg.augmentation.items())), level="info"))
        test = dataset.test
        if isinstance(test, ArraySplit):
            test_data = arrays_for(test, np.arange(len(test)), shape)
        else:
            test_data = FileBatches(test, np.arange(len(test)), bs, False, seed, skipped)
        data = FitData(kwargs, test_data, len(tr_idx), len(val_idx), len(test),
                       math.ceil(len(tr_idx) / bs),
                       extra={"class_names": list(dataset.class_names)})
        return data

    def compile(self, model, cfg: TrainConfig, data: FitData | None = None) -> None:
        """Apply initialiser / L1-L2 / dropout, then compile with the optimizer and schedule."""
        steps = data.steps_per_epoch if data else None
        hyper.apply_hyperparameters(model, cfg)
        model.compile(optimizer=hyper.make_optimizer(cfg, steps),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    def callbacks(self, cfg: TrainConfig, data: FitData | None = None, run_dir=None) -> list:
        """Keras callbacks the run needs besides the engine's (plateau, early stopping)."""
        return hyper.callbacks(cfg, has_validation=bool(data and data.num_val))

    def evaluate(self, model, data: FitData, batch_size: int) -> dict[str, float]:
        if data.num_test == 0:
            return {}
        if isinstance(data.test, tuple):
            logs = model.evaluate(*data.test, batch_size=batch_size, verbose=0, return_dict=True)
        else:
            logs = model.evaluate(data.test, verbose=0, return_dict=True)
        return {k: float(v) for k, v in logs.items()}

    def probe_hooks(self, dataset: Dataset, run_dir, sink, cfg: TrainConfig) -> list:
        """Filters, feature maps and predictions of fixed probe images, stored every epoch
        (probes/epoch-NNNN.npz) so the epoch slider can replay any run, even from disk."""
        from cnnstudio.core.probes.recorder import choose_probe_images, make_probe_hook

        images, labels = choose_probe_images(dataset, count=8)
        return [make_probe_hook(run_dir, images, labels, dataset.class_names, sink=sink)]

    def after_fit(self, model, data: FitData, run_dir) -> dict | None:
        """Per-class precision/recall/F1 and the confusion matrix → run_dir/evaluation.json."""
        if data.num_test == 0 or "class_names" not in data.extra:
            return None
        from cnnstudio.core import evaluation

        return evaluation.evaluate(model, data.test, data.extra["class_names"], run_dir)


TASKS: Registry = Registry("task")
TASKS.register("classification", ClassificationTask())

# Built-in families register through the same call a plug-in would use: the transfer task
# here, and the families of the book's second half (GAN, autoencoder, …) named by their
# light modules.
from cnnstudio.core.families import import_task_modules  # noqa: E402
from cnnstudio.core.training import transfer_task  # noqa: E402, F401  (registers 'transfer')

import_task_modules()
