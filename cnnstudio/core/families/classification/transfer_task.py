"""The ``transfer`` task: classification, plus cached bottleneck features for feature extraction.

With a frozen base the base's output for an image never changes, so the book's DogVGG16
computes it once and trains the head on those vectors. Here that happens at compile time
(the first moment the task sees both the model and the data): ``fit`` then gets feature
vectors instead of images, and ``TransferClassifier`` routes them straight to the head.
Test evaluation and the saved model still take images.
"""

from __future__ import annotations

import time

import numpy as np

from cnnstudio.core import augment
from cnnstudio.core.config import TrainConfig
from cnnstudio.core.families.classification.task import ClassificationTask
from cnnstudio.core.families.classification.transfer import custom_objects
from cnnstudio.core.training import hyper
from cnnstudio.core.training.batches import iter_batches
from cnnstudio.core.training.events import Notice, Progress
from cnnstudio.core.training.tasks import FitData


def bottleneck_features(base, source, batch_size=64, progress=None):
    """The frozen base's output for every image of ``source``: (features, labels) arrays."""
    feats, labels = [], []
    batches = list(range(len(source))) if not isinstance(source, tuple) else None
    total = len(batches) if batches is not None else -(-len(source[1]) // batch_size)
    for n, (x, y) in enumerate(iter_batches(source, batch_size), start=1):
        feats.append(np.asarray(base.predict_on_batch(np.asarray(x, dtype=np.float32))))
        labels.append(np.asarray(y))
        if progress:
            progress(Progress("features", n, total, "computing bottleneck features"))
    if not feats:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int32)
    return np.concatenate(feats), np.concatenate(labels)


class TransferTask(ClassificationTask):
    name = "transfer"

    def probe_hooks(self, dataset, run_dir, sink, cfg) -> list:
        """No filter or map probes (a subclassed model around a frozen base), but the
        calibration: on fewer images, since a large base's pass over them is not cheap."""
        from cnnstudio.core.probes.calibration_record import make_calibration_hook

        return [make_calibration_hook(run_dir, dataset, cfg, sink=sink, limit=256)]

    def prepare(self, dataset, shape, cfg: TrainConfig, sink) -> FitData:
        data = super().prepare(dataset, shape, cfg, sink)
        data.extra["sink"] = sink
        return data

    def compile(self, model, cfg: TrainConfig, data: FitData | None = None) -> None:
        # Only the head (and any unfrozen blocks) take the initialiser and penalties.
        hyper.apply_hyperparameters(model, cfg, only_trainable=True)
        if data is not None and getattr(model, "mode", "") == "feature-extraction":
            self.cache_features(model, cfg, data)
        steps = data.steps_per_epoch if data else None
        model.compile(optimizer=hyper.make_optimizer(cfg, steps),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    def cache_features(self, model, cfg: TrainConfig, data: FitData) -> bool:
        sink = data.extra.get("sink") or (lambda event: None)
        if augment.is_active(cfg.augmentation):
            sink(Notice("augmentation is on, so bottleneck features are not cached: every "
                        "epoch runs the frozen base (slower, as the book warns)", level="info"))
            return False
        kwargs, bs = data.fit_kwargs, cfg.batch_size
        train = (kwargs["x"], kwargs["y"]) if "y" in kwargs else kwargs["x"]
        t0 = time.perf_counter()
        x, y = bottleneck_features(model.base, train, bs, sink)
        cached = {"x": x, "y": y, "batch_size": bs, "shuffle": True}
        if "validation_data" in kwargs:
            cached["validation_data"] = bottleneck_features(model.base, kwargs["validation_data"],
                                                            bs, sink)
        data.fit_kwargs = cached
        data.extra["bottleneck"] = {"train": int(len(y)), "dim": int(x.shape[1]),
                                    "seconds": round(time.perf_counter() - t0, 2)}
        sink(Notice(f"cached {len(y)} bottleneck features of size {x.shape[1]} in "
                    f"{time.perf_counter() - t0:.1f} s: the head now trains on them alone",
                    level="info"))
        return True


INSTANCE = TransferTask()   # registered by the family plugin
custom_objects()   # saved transfer models and checkpoints can be loaded from here on
