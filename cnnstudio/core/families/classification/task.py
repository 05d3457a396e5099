"""The classification task (chapters 1–5): cross-entropy, accuracy, per-epoch probes of
filters, feature maps and predictions, and the per-class evaluation."""

from __future__ import annotations

import math

import numpy as np

from cnnstudio.core import augment
from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import ArraySplit, Dataset
from cnnstudio.core.probes import adversarial_training
from cnnstudio.core.training import hyper
from cnnstudio.core.training.batches import FileBatches, arrays_for, split_indices
from cnnstudio.core.training.events import Notice
from cnnstudio.core.training.tasks import FitData


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
        if adversarial_training.is_active(cfg.adversarial):
            sink(Notice(adversarial_training.describe(cfg.adversarial), level="info"))
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
        return (hyper.callbacks(cfg, has_validation=bool(data and data.num_val))
                + adversarial_training.make_callbacks(cfg.adversarial, data))

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
        (probes/epoch-NNNN.npz) so the epoch slider can replay any run, even from disk; and
        the held-out calibration (probes/calibration-epoch-NNNN.npz); the test predictions
        that "What changed" compares (probes/predictions-epoch-NNNN.npz)."""
        from cnnstudio.core.probes.calibration_record import make_calibration_hook
        from cnnstudio.core.probes.recorder import choose_probe_images, make_probe_hook
        from cnnstudio.core.probes.what_changed import make_prediction_hook

        images, labels = choose_probe_images(dataset, count=8)
        return [make_probe_hook(run_dir, images, labels, dataset.class_names, sink=sink),
                make_calibration_hook(run_dir, dataset, cfg, sink=sink),
                make_prediction_hook(run_dir, dataset, sink=sink)]

    def after_fit(self, model, data: FitData, run_dir) -> dict | None:
        """Per-class precision/recall/F1 and the confusion matrix → run_dir/evaluation.json;
        the statistics that tell unfamiliar inputs → run_dir/familiarity.{json,npz}."""
        fit_familiarity(model, data, run_dir)
        if data.num_test == 0 or "class_names" not in data.extra:
            return None
        from cnnstudio.core import evaluation

        return evaluation.evaluate(model, data.test, data.extra["class_names"], run_dir)


def fit_familiarity(model, data: FitData, run_dir):
    """Fit ``core.familiarity`` on the training images and calibrate it on the validation
    split (the test split when the validation split is too small); skipped, writing nothing,
    when neither has enough images or the model has no penultimate layer to read (a
    subclassed transfer model). Never fails the run: a finished run stays finished."""
    from cnnstudio.core import familiarity

    kwargs = data.fit_kwargs
    train = (kwargs["x"], kwargs["y"]) if "y" in kwargs else kwargs.get("x")
    if data.num_val >= familiarity.MIN_CALIBRATION and "validation_data" in kwargs:
        held, name = kwargs["validation_data"], "validation"
    elif data.num_test >= familiarity.MIN_CALIBRATION:
        held, name = data.test, "test"
    else:
        return None
    if train is None:
        return None
    try:
        return familiarity.fit_run(model, train, held, run_dir, calibrated_on=name)
    except Exception as exc:     # an extra: the run and its model are worth more
        import sys

        print(f"familiarity statistics skipped: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None


INSTANCE = ClassificationTask()   # registered by the family plugin
