"""Task "gan": how the engine trains ``gan-mlp`` and ``dcgan``.

    data = task.prepare(dataset, shape, cfg, sink)   # training images only, labels unused
    task.compile(model, cfg, data)                   # two optimizers (Adam β₁ = 0.5)
    hooks = task.probe_hooks(...)                    # the fixed-noise grid, every epoch
    task.callbacks(...)                              # … and a live grid every LIVE_EVERY batches
    task.evaluate(model, data, batch_size)           # mean D on test images and on samples

A folder dataset trains on all its images, whatever their class folders.
"""

from __future__ import annotations

import math

import numpy as np

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import ArraySplit, Dataset
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.generative import gan_probes
from cnnstudio.core.imaging import resize_batch
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.training import hyper
from cnnstudio.core.training.events import Notice
from cnnstudio.core.training.tasks import FitData

LIVE_EVERY = 200            # batches between live grids (besides the one every epoch)


def split_images(split, shape, sink=None) -> np.ndarray:
    """Every image of a split as uint8 (N, H, W, C) in ``shape``; unreadable files skipped."""
    if isinstance(split, ArraySplit):
        return resize_batch(split.x, shape)
    x, _, skipped = split.images(np.arange(len(split)))
    for path, reason in skipped:
        if sink is not None:
            sink(Notice(f"skipped {path}: {reason}"))
    return x


def make_optimizer(cfg: TrainConfig, steps_per_epoch: int | None):
    """The run's optimizer and schedule; Adam with β₁ = 0.5 as in DCGAN (0.9 oscillates)."""
    if cfg.optimizer == "adam":
        return keras().optimizers.Adam(hyper.learning_rate(cfg, steps_per_epoch), beta_1=0.5)
    return hyper.make_optimizer(cfg, steps_per_epoch)


class LiveGrid(keras().callbacks.Callback):
    """Every ``every`` batches: G(fixed z) on the training thread → ProbeReady("gan-grid")."""

    def __init__(self, recorder: gan_probes.GridRecorder, steps_per_epoch: int,
                 every: int = LIVE_EVERY):
        super().__init__()
        self.recorder, self.steps, self.every = recorder, steps_per_epoch, max(1, every)
        self.epoch, self.seen = 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen % self.every == 0 and batch + 1 < self.steps:   # epoch end has its own
            self.recorder.emit(self.recorder.frame(self.model, self.epoch, batch + 1))


def grid_probe_hooks(recorders: dict, dataset: Dataset, run_dir, sink, cfg: TrainConfig) -> list:
    """The fixed-noise sample grid every epoch, with 64 seeded real images beside it for the
    diversity measure; kept in ``recorders`` so the live-grid callback can reach it."""
    rng = np.random.default_rng(cfg.seed)
    picks = np.sort(rng.permutation(len(dataset.train))[:gan_probes.GRID ** 2])
    real, _, _ = dataset.train.images(picks)
    recorder = gan_probes.GridRecorder(run_dir, cfg.seed, real, sink)
    recorders[str(run_dir)] = recorder
    return [recorder]


class GanTask:
    name = "gan"
    live_every = LIVE_EVERY

    def __init__(self):
        self._recorders: dict[str, gan_probes.GridRecorder] = {}

    def build_model(self, arch, input_shape, num_classes, options, cfg: TrainConfig):
        # A GAN needs no classes: a one-folder dataset trains as well.
        return arch.build(input_shape, max(2, int(num_classes)), options)

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        x = split_images(dataset.train, shape, sink)
        if len(x) == 0:
            raise DataError(f"dataset {dataset.id} has no readable training images")
        if cfg.validation_split:
            sink(Notice("A GAN trains on every training image and has no validation set: "
                        "validation_split is not used.", level="info"))
        test = split_images(dataset.test, shape, sink) if len(dataset.test) else x[:0]
        bs = cfg.batch_size
        return FitData({"x": x, "batch_size": bs, "shuffle": True}, test, len(x), 0,
                       len(test), math.ceil(len(x) / bs),
                       extra={"class_names": list(dataset.class_names)})

    def compile(self, model, cfg: TrainConfig, data: FitData | None = None) -> None:
        steps = data.steps_per_epoch if data else None
        model.compile(d_optimizer=make_optimizer(cfg, steps),
                      g_optimizer=make_optimizer(cfg, steps))

    def probe_hooks(self, dataset: Dataset, run_dir, sink, cfg: TrainConfig) -> list:
        return grid_probe_hooks(self._recorders, dataset, run_dir, sink, cfg)

    def callbacks(self, cfg: TrainConfig, data: FitData | None = None, run_dir=None) -> list:
        recorder = self._recorders.pop(str(run_dir), None)
        if recorder is None or data is None:
            return []
        return [LiveGrid(recorder, data.steps_per_epoch, self.live_every)]

    def evaluate(self, model, data: FitData, batch_size: int) -> dict[str, float]:
        """Mean D(x) on test images, mean D(G(z)) on as many fresh samples, their diversity."""
        n = max(len(data.test), gan_probes.GRID ** 2)
        fake = gan_probes.generate(model, min(n, 1000), seed=0)
        out = {"d_fake_test": float(np.mean(gan_probes.realness(model, fake))),
               "diversity": gan_probes.diversity(fake[:gan_probes.GRID ** 2])}
        if len(data.test):
            real = data.test[:1000]
            out["d_real_test"] = float(np.mean(gan_probes.realness(model, real)))
            out["real_diversity"] = gan_probes.diversity(real[:gan_probes.GRID ** 2])
        return out


INSTANCE = GanTask()   # registered by the family plugin
