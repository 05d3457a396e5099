"""What the engine's detection tasks (Mask R-CNN, R-CNN, Fast R-CNN) share: the data must
have instances, the class names come from the data, the run's optimizer, detections on fixed
probe images every epoch (the Detections tab replays them) and COCOeval on the test split in
``evaluation.json``. A task says how it prepares the data (``prepare``) and how its model
finds the objects of a split (``evaluate_split``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import Dataset
from cnnstudio.core.errors import DataError, ModelError
from cnnstudio.core.families.detection.instance_split import InstanceSplit
from cnnstudio.core.training import hyper
from cnnstudio.core.training.events import Notice
from cnnstudio.core.training.tasks import FitData


class DetectorTask:
    name = ""
    label = ""                # the model in messages: "R-CNN"
    needs = "object boxes"    # what the data must have, in messages
    # True runs train_step, predictions and probes eagerly: slow, but no graph tracing (a
    # debugger can step through the step; the tests' two-step runs finish sooner).
    run_eagerly = False
    DEFAULTS: dict = {}       # the architecture options prepare() needs (check() keeps them)
    # NMS, map_fn and boolean masks in a train step have data-dependent shapes XLA cannot
    # compile; a plain CNN step (R-CNN's) can leave it to Keras ("auto": XLA on a GPU).
    jit_compile: bool | str = False

    def __init__(self):
        self.options = dict(self.DEFAULTS)

    def build_model(self, arch, input_shape, num_classes, options, cfg: TrainConfig):
        height, width = input_shape[:2]
        if min(height, width) < arch.min_size:
            raise ModelError(f"{arch.id} needs images of at least {arch.min_size}×"
                             f"{arch.min_size}, got {height}×{width}")
        return arch.build_fn(tuple(int(s) for s in input_shape), int(num_classes),
                             **arch.options(options))

    def check(self, dataset: Dataset, options: dict, cfg: TrainConfig) -> None:
        if not isinstance(dataset.train, InstanceSplit):
            raise DataError(f"{self.label} needs a dataset with {self.needs} (shapes, or COCO "
                            f"annotations); {dataset.id} has one label per image")
        # check() sees the architecture's options on every run and resume; prepare() does not.
        self.options = {**self.DEFAULTS,
                        **{k: v for k, v in options.items() if k in self.DEFAULTS}}

    def usable_images(self, dataset: Dataset, sink) -> np.ndarray:
        """Indices of the training images that have instances (the others are said and left
        out); a DataError when none has."""
        self.check(dataset, self.options, None)
        train = dataset.train
        usable = np.array([i for i, a in enumerate(train.annotations) if len(a["class_ids"])],
                          np.int64)
        if len(usable) < len(train):
            sink(Notice(f"{len(train) - len(usable)} training images have no instances and "
                        "are left out", level="info"))
        if len(usable) == 0:
            raise DataError(f"dataset {dataset.id} has no training image with instances")
        return usable

    def compile(self, model, cfg: TrainConfig, data: FitData | None = None) -> None:
        if data is not None:
            names = data.extra["class_names"]
            if len(names) != len(model.class_names):
                raise ModelError(f"the model has {len(model.class_names) - 1} classes, the "
                                 f"data {len(names) - 1}")
            model.class_names = list(names)
        steps = data.steps_per_epoch if data else None
        model.compile(optimizer=hyper.make_optimizer(cfg, steps), jit_compile=self.jit_compile,
                      run_eagerly=self.run_eagerly)

    def probe_hooks(self, dataset: Dataset, run_dir, sink, cfg: TrainConfig) -> list:
        from cnnstudio.core.families.detection.maskrcnn_probes import (
            DetectionRecorder,
            probe_images,
        )

        split = dataset.test if len(dataset.test) else dataset.train
        return [DetectionRecorder(run_dir, probe_images(split), sink)]

    def callbacks(self, cfg: TrainConfig, data: FitData | None = None, run_dir=None) -> list:
        return hyper.callbacks(cfg, has_validation=bool(data and data.num_val))

    def evaluate_split(self, model, split: InstanceSplit, batch_size: int = 16) -> dict:
        raise NotImplementedError

    def evaluate(self, model, data: FitData, batch_size: int) -> dict[str, float]:
        if not data.num_test:
            return {}
        figures = self.evaluate_split(model, data.test, batch_size)
        data.extra["evaluation"] = figures
        return {k: float(v) for k, v in figures.items() if isinstance(v, (int, float))}

    def after_fit(self, model, data: FitData, run_dir) -> dict | None:
        """The test split's COCOeval figures → run_dir/evaluation.json."""
        figures = data.extra.get("evaluation")
        if figures is None:
            if not data.num_test:
                return None
            figures = self.evaluate_split(model, data.test)
        from cnnstudio.core.families.detection.coco_eval import write_evaluation

        path = write_evaluation(Path(run_dir, "evaluation.json"), figures, base={
            "task": self.name, "metric": "COCOeval", "num_test": data.num_test,
            "class_names": list(model.class_names)})
        return json.loads(path.read_text())
