"""The ``from-run`` task: classification that keeps the starting run's weights.

Two things differ from training a new model: the kernel initialiser is never applied (it
would throw the start away), and the output layer's columns follow the dataset's class
order (a Teachable Machine export's order is its labels.txt; a folder dataset's is
alphabetical). Classes that differ by name get a fresh output layer.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.families.classification.from_run import SOURCE_NAMES
from cnnstudio.core.families.classification.task import ClassificationTask
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.probes.nested_layers import last_softmax_dense
from cnnstudio.core.training.events import Notice
from cnnstudio.core.training.tasks import FitData


def match_classes(model, source: list[str], target: list[str]) -> str:
    """Put the output layer's columns in ``target``'s order; what was done, in words."""
    last = last_softmax_dense(model)
    if not source or last is None or source == target:
        return "kept" if source == target and source else "new"
    kernel = np.asarray(last.kernel.numpy())
    bias = np.asarray(last.bias.numpy()) if last.bias is not None else None
    if sorted(source) == sorted(target):
        order = [source.index(name) for name in target]
        last.kernel.assign(kernel[:, order])
        if bias is not None:
            last.bias.assign(bias[order])
        return "reordered"
    fresh = keras().initializers.GlorotUniform(seed=0)
    last.kernel.assign(fresh(kernel.shape))
    if bias is not None:
        last.bias.assign(np.zeros_like(bias))
    return "renamed"


class FromRunTask(ClassificationTask):
    name = "from-run"

    def probe_hooks(self, dataset, run_dir, sink, cfg) -> list:
        """Nested bases have no top-level filters to record; the calibration still is."""
        from cnnstudio.core.probes.calibration_record import make_calibration_hook

        return [make_calibration_hook(run_dir, dataset, cfg, sink=sink, limit=256)]

    def prepare(self, dataset, shape, cfg: TrainConfig, sink) -> FitData:
        data = super().prepare(dataset, shape, cfg, sink)
        data.extra["sink"] = sink
        return data

    def compile(self, model, cfg: TrainConfig, data: FitData | None = None) -> None:
        sink = (data.extra.get("sink") if data else None) or (lambda event: None)
        source = getattr(model, SOURCE_NAMES, None)
        if source is not None and data is not None:       # a new run (not a resumed one)
            target = list(data.extra.get("class_names") or [])
            done = match_classes(model, list(source), target)
            text = {"kept": "the output layer keeps its weights (same classes, same order)",
                    "reordered": "the output layer keeps its weights, its columns put in "
                                 "this dataset's class order",
                    "renamed": "this dataset's classes differ from the run's: the output "
                               "layer starts afresh",
                    "new": "the output layer is new (a different number of classes)"}[done]
            sink(Notice(f"starting from the run's weights; {text}", level="info"))
            delattr(model, SOURCE_NAMES)
        if cfg.initializer != "default":
            sink(Notice("the initialiser is ignored: the weights come from the run"))
            cfg = replace(cfg, initializer="default")
        super().compile(model, cfg, data)


INSTANCE = FromRunTask()   # registered by the family plugin
