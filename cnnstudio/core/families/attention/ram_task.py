"""Task "ram": how the engine trains the Recurrent Attention Model.

    task.check(dataset, options, cfg)            # glimpse budget, patch vs canvas
    data = task.prepare(dataset, shape, cfg, sink)
    task.compile(model, cfg, data)               # one optimizer: its state is saved
    hooks = task.probe_hooks(...)                # glimpses on 8 probe images every epoch
    task.evaluate(model, data, batch_size)       # test accuracy, and with random fixations

On a canvas dataset (mnist-translated, -cluttered, -noisy-collage) the training digits
are placed anew every epoch (``SceneBatches``, keyed by seed, epoch and batch, so a
resumed run sees the epochs it would have seen); validation and test canvases are fixed.
Any other image dataset trains on its images as they are.
"""

from __future__ import annotations

import math

import numpy as np

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import ArraySplit, Dataset
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.attention import ram_probes
from cnnstudio.core.families.attention.canvases import Scene, fixed_scenes, scene_batch
from cnnstudio.core.families.attention.ram import check_ram
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.training import hyper
from cnnstudio.core.training.batches import arrays_for, split_indices
from cnnstudio.core.training.tasks import FitData

VALIDATION_SEED = 13


class SceneBatches(keras().utils.PyDataset):
    """Training batches of freshly placed digits; ``epoch`` (set by ``EpochKey`` at each
    epoch's start) picks the placements. With ``centres`` the targets are (labels, digit
    centres), for the RAM's optional location hint; else labels alone (any classifier)."""

    def __init__(self, digits, labels, scene: Scene, batch_size: int, seed: int,
                 centres: bool = False):
        super().__init__()
        self.digits, self.labels, self.scene = digits, np.asarray(labels), scene
        self.batch_size, self.seed, self.epoch = int(batch_size), int(seed), 0
        self.centres = centres

    def __len__(self) -> int:
        return math.ceil(len(self.digits) / self.batch_size)

    def __getitem__(self, index):
        size = min(self.batch_size, len(self.digits) - index * self.batch_size)
        x, y, centres = scene_batch(self.digits, self.labels, self.scene, self.seed,
                                    self.epoch, index, size)
        return (x, (y, centres)) if self.centres else (x, y)


class EpochKey(keras().callbacks.Callback):
    """Keys each epoch's placements by its number, and switches the RAM's location hint
    (``hint_epochs``) on for the first epochs and off after."""

    def __init__(self, batches: SceneBatches):
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.epoch = epoch
        hint = getattr(self.model, "hint_weight", None)
        if hint is not None:
            hint.assign(1.0 if epoch < getattr(self.model, "hint_epochs", 0) else 0.0)


class RamTask:
    name = "ram"

    def check(self, dataset: Dataset, options: dict, cfg: TrainConfig) -> None:
        check_ram(options, dataset.input_shape)

    def build_model(self, arch, input_shape, num_classes, options, cfg: TrainConfig):
        return arch.build(input_shape, num_classes, options)

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        bs, seed = cfg.batch_size, cfg.seed
        digits = getattr(dataset, "digits", None)
        test = dataset.test
        test_data = arrays_for(test, np.arange(len(test)), shape) if isinstance(
            test, ArraySplit) else test.images(np.arange(len(test)))[:2]
        extra = {"class_names": list(dataset.class_names)}
        if digits is not None:
            tr_idx, val_idx = split_indices(len(digits), cfg.validation_split, seed)
            batches = SceneBatches(digits.x[tr_idx], digits.y[tr_idx], dataset.scene, bs, seed,
                                   centres=True)
            kwargs = {"x": batches}
            if len(val_idx):
                kwargs["validation_data"] = (
                    fixed_scenes(digits.x[val_idx], dataset.scene, seed + VALIDATION_SEED),
                    digits.y[val_idx])
            extra["scene_batches"] = batches
        else:
            if not isinstance(dataset.train, ArraySplit):
                raise DataError("the RAM trains on in-memory datasets (canvases, MNIST-like "
                                "sets); image folders are not supported")
            tr_idx, val_idx = split_indices(len(dataset.train), cfg.validation_split, seed)
            x, y = arrays_for(dataset.train, tr_idx, shape)
            kwargs = {"x": x, "y": y, "batch_size": bs, "shuffle": True}
            if len(val_idx):
                kwargs["validation_data"] = arrays_for(dataset.train, val_idx, shape)
        return FitData(kwargs, test_data, len(tr_idx), len(val_idx), len(test),
                       math.ceil(len(tr_idx) / bs), extra=extra)

    def compile(self, model, cfg: TrainConfig, data: FitData | None = None) -> None:
        steps = data.steps_per_epoch if data else None
        # XLA doubles the step time of the unrolled glimpse loop on the CPU (measured).
        model.compile(optimizer=hyper.make_optimizer(cfg, steps), jit_compile=False)

    def callbacks(self, cfg: TrainConfig, data: FitData | None = None, run_dir=None) -> list:
        out = hyper.callbacks(cfg, has_validation=bool(data and data.num_val))
        batches = data.extra.get("scene_batches") if data else None
        return [EpochKey(batches), *out] if batches is not None else out

    def probe_hooks(self, dataset: Dataset, run_dir, sink, cfg: TrainConfig) -> list:
        from cnnstudio.core.probes.recorder import choose_probe_images

        images, labels = choose_probe_images(dataset, count=ram_probes.PROBES)
        return [ram_probes.GlimpseRecorder(run_dir, images, labels, sink, seed=cfg.seed)]

    def evaluate(self, model, data: FitData, batch_size: int) -> dict[str, float]:
        if data.num_test == 0:
            return {}
        x, y = data.test
        logs = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
        out = {k: float(v) for k, v in logs.items()}
        out["random_policy_accuracy"] = ram_probes.random_policy_accuracy(model, x, y)
        return out

    def after_fit(self, model, data: FitData, run_dir) -> dict | None:
        if data.num_test == 0:
            return None
        from cnnstudio.core import evaluation

        return evaluation.evaluate(model, data.test, data.extra["class_names"], run_dir)


INSTANCE = RamTask()   # registered by the family plugin
