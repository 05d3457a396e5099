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
Every family registers its tasks from its plugin (``TASKS`` in ``cnnstudio.core.registry``);
``classification`` lives in ``cnnstudio.core.families.classification``. This module holds
what every task shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.registry import TASKS  # noqa: F401  (re-exported for the families' tasks)
from cnnstudio.core.training import hyper


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
