"""Task "ssgan": how the engine trains the semi-supervised GAN.

    data = task.prepare(dataset, shape, cfg, sink)   # every training image, unlabelled
    task.compile(model, cfg, data)                   # two optimizers (Adam β₁ = 0.5)
    task.callbacks(cfg, data, run_dir)               # picks the labelled images; live grid
    task.probe_hooks(...)                            # the fixed-noise grid, every epoch
    task.evaluate(model, data, batch_size)           # test accuracy of D's classes
    task.after_fit(model, data, run_dir)             # evaluation.json

The labelled images are ``labelled_per_class`` per class, chosen with the run's seed
(the same on resume) among the training images; every training image (those included,
as in Improved GAN) is also used without its label. Held-out images measure
``val_accuracy`` every epoch: the validation split, or the test images when it is 0.

The engine hands ``prepare`` no model options, so the labelled subset is picked in
``callbacks`` from the run's own config.json (run_dir), before ``fit`` reads a batch.
The choice and its size are written to ``run_dir/labels.json`` and announced in a Notice.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import ArraySplit, Dataset
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.generative import gan_probes
from cnnstudio.core.families.generative.gan_task import (
    LIVE_EVERY,
    LiveGrid,
    grid_probe_hooks,
    make_optimizer,
)
from cnnstudio.core.families.generative.ssgan_losses import labelled_subset
from cnnstudio.core.imaging import resize_batch
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.training.batches import split_indices
from cnnstudio.core.training.epoch_order import EpochOrdered
from cnnstudio.core.training.events import Notice
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.core.training.tasks import FitData

LABELS_FILE = "labels.json"


class SsganBatches(EpochOrdered, keras().utils.PyDataset):
    """Each batch: (unlabelled images, as many labelled images, their labels), uint8/int.

    The unlabelled images are shuffled every epoch; the few labelled ones are cycled in a
    fresh seeded order, so each step sees a full labelled batch. Both orders come from
    (seed, epoch): a resumed run repeats them.
    """

    def __init__(self, x, y, batch_size: int, seed: int):
        super().__init__(workers=1, use_multiprocessing=False)
        self.x, self.y, self.batch_size = x, np.asarray(y), int(batch_size)
        self.seed = int(seed)
        self.labelled: np.ndarray | None = None

    def choose_labels(self, per_class: int, num_classes: int, seed: int) -> np.ndarray:
        """Pick the labelled images (DataError when a class has too few); returns indices."""
        self.labelled = labelled_subset(self.y, per_class, num_classes, seed)
        self.forget_draws()
        return self.labelled

    def draw(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """The epoch's order of all images and its cycle through the labelled ones."""
        order = self.rng(epoch).permutation(len(self.x))
        if self.labelled is None:
            return order, np.zeros(0, np.int64)
        rounds = math.ceil(len(self) * self.batch_size / len(self.labelled))
        rng = self.rng(epoch, 1)
        return order, np.concatenate([rng.permutation(self.labelled) for _ in range(rounds)])

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        if self.labelled is None:
            raise DataError("the labelled images were not chosen before training")
        _, pos, (order, cycle) = self.locate(index)
        start = pos * self.batch_size
        unl = order[start:start + self.batch_size]
        lab = cycle[start:start + len(unl)]
        return self.x[unl], self.x[lab], self.y[lab]


def _images_and_labels(split, shape, sink) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(split, ArraySplit):
        return resize_batch(split.x, shape), np.asarray(split.y)
    x, y, skipped = split.images(np.arange(len(split)))
    for path, reason in skipped:
        sink(Notice(f"skipped {path}: {reason}"))
    return x, y


def run_options(run_dir) -> dict:
    """The ssgan options a run was started with (its config.json), defaults filled in."""
    from cnnstudio.core.registry import ARCHITECTURES

    config = RunDir.open(run_dir).config()
    return ARCHITECTURES.get(config.model.id).options(config.model.options)


class SsganTask:
    name = "ssgan"
    live_every = LIVE_EVERY

    def __init__(self):
        self._recorders: dict[str, gan_probes.GridRecorder] = {}

    def check(self, dataset: Dataset, options: dict, cfg: TrainConfig) -> None:
        """Too many labels per class for this data: DataError before anything is written."""
        labelled_subset(np.asarray(dataset.train.labels), int(options["labelled_per_class"]),
                        dataset.num_classes, cfg.seed)

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        x, y = _images_and_labels(dataset.train, shape, sink)
        if len(x) == 0:
            raise DataError(f"dataset {dataset.id} has no readable training images")
        tr, val = split_indices(len(x), cfg.validation_split, cfg.seed)
        batches = SsganBatches(x[tr], y[tr], cfg.batch_size, cfg.seed)
        test = _images_and_labels(dataset.test, shape, sink) if len(dataset.test) else None
        if len(val):
            held_out, where = (x[val], y[val]), f"{len(val)} held-out training images"
        elif test is not None:
            held_out, where = test, f"the {len(test[1])} test images"
        else:
            held_out, where = None, ""
        kwargs = {"x": batches}
        if held_out is not None:
            kwargs["validation_data"] = held_out
            kwargs["validation_batch_size"] = 256
            sink(Notice(f"val_accuracy is measured on {where} (their labels are never "
                        "trained on).", level="info"))
        return FitData(kwargs, test, len(tr), len(val), 0 if test is None else len(test[1]),
                       len(batches), extra={"class_names": list(dataset.class_names),
                                            "batches": batches, "sink": sink,
                                            "seed": cfg.seed})

    def choose_labels(self, data: FitData, per_class: int) -> int:
        """Pick ``per_class`` labelled images per class; returns how many labels are used."""
        batches: SsganBatches = data.extra["batches"]
        names = data.extra["class_names"]
        picked = batches.choose_labels(int(per_class), len(names), data.extra["seed"])
        data.extra.update(labelled_per_class=int(per_class), labels=len(picked),
                          labelled_indices=picked)
        data.extra["sink"](Notice(
            f"Semi-supervised: {len(picked)} labelled images ({per_class} per class) and "
            f"{len(batches.x)} used without labels.", level="info"))
        return len(picked)

    def compile(self, model, cfg: TrainConfig, data: FitData | None = None) -> None:
        steps = data.steps_per_epoch if data else None
        model.compile(d_optimizer=make_optimizer(cfg, steps),
                      g_optimizer=make_optimizer(cfg, steps))

    def callbacks(self, cfg: TrainConfig, data: FitData | None = None, run_dir=None) -> list:
        recorder = self._recorders.pop(str(run_dir), None)
        if data is None or run_dir is None:
            return []
        if data.extra["batches"].labelled is None:
            self.choose_labels(data, run_options(run_dir)["labelled_per_class"])
        _write_labels(run_dir, data)
        return [] if recorder is None else [LiveGrid(recorder, data.steps_per_epoch,
                                                     self.live_every)]

    def probe_hooks(self, dataset: Dataset, run_dir, sink, cfg: TrainConfig) -> list:
        """The fixed-noise sample grid every epoch (the GAN family's recorder)."""
        return grid_probe_hooks(self._recorders, dataset, run_dir, sink, cfg)

    def evaluate(self, model, data: FitData, batch_size: int) -> dict[str, float]:
        """Test accuracy of D's class predictions, D(x) on the test images, labels used."""
        out = {"labels": float(data.extra.get("labels", 0))}
        if data.test is None:
            return out
        x, y = data.test
        probs = model.classify(x, batch_size=max(batch_size, 256))
        out["accuracy"] = float(np.mean(np.argmax(probs, axis=1) == y))
        out["d_real_test"] = float(np.mean(gan_probes.realness(model, x[:1000])))
        return out

    def after_fit(self, model, data: FitData, run_dir) -> dict:
        """evaluation.json: test accuracy, the labels used and per-class accuracy."""
        result = {"task": "ssgan", "labels": int(data.extra.get("labels", 0)),
                  "labelled_per_class": data.extra.get("labelled_per_class"),
                  "unlabelled": len(data.extra["batches"].x),
                  "supervised_only": float(getattr(model, "unsupervised_weight", 1)) == 0}
        if data.test is not None:
            x, y = data.test
            predicted = np.argmax(model.classify(x), axis=1)
            result["accuracy"] = float(np.mean(predicted == y))
            result["num_test"] = int(len(y))
            names = data.extra["class_names"]
            result["per_class_accuracy"] = {
                names[c]: float(np.mean(predicted[y == c] == c)) if np.any(y == c) else None
                for c in range(len(names))}
        _write_json(Path(run_dir) / "evaluation.json", result)
        return result


def _write_labels(run_dir, data: FitData) -> None:
    _write_json(Path(run_dir) / LABELS_FILE, {
        "labelled_per_class": data.extra["labelled_per_class"], "labels": data.extra["labels"],
        "unlabelled": len(data.extra["batches"].x),
        "indices": [int(i) for i in data.extra["labelled_indices"]],
        "note": "indices into the training images left after the validation split"})


def _write_json(path: Path, payload: dict) -> None:
    from cnnstudio.core.atomic import write_text as write_atomic

    write_atomic(path, json.dumps(payload, indent=2))


INSTANCE = SsganTask()   # registered by the family plugin
