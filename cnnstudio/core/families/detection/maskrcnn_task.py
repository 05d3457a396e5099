"""Task "detection": how the engine trains ``maskrcnn``.

    data = task.prepare(dataset, shape, cfg, sink)   # images + padded ground truth arrays
    task.compile(model, cfg, data)                   # the data's class names, one optimizer
    hooks = task.probe_hooks(...)                    # detections on probe images, each epoch
    task.evaluate(model, data, batch_size)           # COCOeval box and mask AP on the test split
    task.after_fit(model, data, run_dir)             # … written to evaluation.json

The data needs instance annotations (``InstanceSplit``: the shapes generator, COCO files).
Each image's instances become fixed-size slots for ``fit``: ``gt_boxes`` (N, G, 4),
``gt_class_ids`` (N, G) with 0 in empty slots, ``gt_masks`` (N, G, H, W) uint8, G the most
instances any training image has.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import Dataset
from cnnstudio.core.errors import DataError, ModelError
from cnnstudio.core.families.detection.instance_split import InstanceSplit
from cnnstudio.core.training import hyper
from cnnstudio.core.training.batches import split_indices
from cnnstudio.core.training.events import Notice
from cnnstudio.core.training.tasks import FitData

MAX_INSTANCES = 100         # slots per image; more would make every batch huge


def training_arrays(split: InstanceSplit, indices=None, slots: int | None = None) -> dict:
    """The ``fit`` inputs of a split's images (all, or ``indices``)."""
    indices = np.arange(len(split)) if indices is None else np.asarray(indices, np.int64)
    anns = [split.annotations[i] for i in indices]
    slots = slots or max([len(a["class_ids"]) for a in anns] + [1])
    n, (h, w) = len(indices), split.x.shape[1:3]
    boxes = np.zeros((n, slots, 4), np.float32)
    ids = np.zeros((n, slots), np.int32)
    masks = np.zeros((n, slots, h, w), np.uint8)
    for row, a in enumerate(anns):
        k = min(len(a["class_ids"]), slots)
        boxes[row, :k] = a["boxes"][:k]
        ids[row, :k] = a["class_ids"][:k]
        masks[row, :k] = a["masks"][:k]
    return {"images": split.x[indices], "gt_boxes": boxes, "gt_class_ids": ids,
            "gt_masks": masks}


def detect_batch(model, images: np.ndarray, batch_size: int = 16) -> list[dict]:
    """The model's detections of uint8 images of its input size: one dict per image with
    boxes, class_ids, scores and 28×28 box masks (``mask_28``)."""
    out = []
    for start in range(0, len(images), batch_size):
        found = model.predict_on_batch(images[start:start + batch_size])
        for i in range(len(found["valid"])):
            keep = np.asarray(found["valid"][i], bool)
            out.append({key: np.asarray(found[src][i])[keep] for key, src in
                        (("boxes", "boxes"), ("class_ids", "class_ids"),
                         ("scores", "scores"), ("mask_28", "masks"))})
    return out


def evaluate_split(model, split: InstanceSplit, batch_size: int = 16) -> dict:
    """COCOeval box and mask AP of the model's detections on a split."""
    from cnnstudio.core.families.detection import coco_eval
    from cnnstudio.core.families.detection.instances import paste_masks

    h, w = split.x.shape[1:3]
    found = detect_batch(model, split.x, batch_size)
    for d in found:
        d["masks"] = paste_masks(d["mask_28"], d["boxes"], h, w)
    return coco_eval.coco_metrics(split.annotations, found)


class DetectionTask:
    name = "detection"
    # True runs train_step, predictions and probes eagerly: slow, but no graph tracing (a
    # debugger can step through the step; the tests' two-step runs finish sooner).
    run_eagerly = False

    def build_model(self, arch, input_shape, num_classes, options, cfg: TrainConfig):
        height, width = input_shape[:2]
        if min(height, width) < arch.min_size:
            raise ModelError(f"{arch.id} needs images of at least {arch.min_size}×"
                             f"{arch.min_size}, got {height}×{width}")
        return arch.build_fn(tuple(int(s) for s in input_shape), int(num_classes),
                             **arch.options(options))

    def check(self, dataset: Dataset, options: dict, cfg: TrainConfig) -> None:
        if not isinstance(dataset.train, InstanceSplit):
            raise DataError(f"Mask R-CNN needs a dataset with instance masks (shapes, or COCO "
                            f"annotations); {dataset.id} has one label per image")

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        self.check(dataset, {}, cfg)
        train = dataset.train
        usable = np.array([i for i, a in enumerate(train.annotations) if len(a["class_ids"])],
                          np.int64)
        if len(usable) < len(train):
            sink(Notice(f"{len(train) - len(usable)} training images have no instances and "
                        "are left out", level="info"))
        if len(usable) == 0:
            raise DataError(f"dataset {dataset.id} has no training image with instances")
        slots = min(MAX_INSTANCES, max(len(train.annotations[i]["class_ids"]) for i in usable))
        tr, val = split_indices(len(usable), cfg.validation_split, cfg.seed)
        bs = cfg.batch_size
        kwargs = {"x": training_arrays(train, usable[tr], slots), "batch_size": bs,
                  "shuffle": True}
        if len(val):
            kwargs["validation_data"] = training_arrays(train, usable[val], slots)
        return FitData(kwargs, dataset.test, len(tr), len(val), len(dataset.test),
                       math.ceil(len(tr) / bs),
                       extra={"class_names": ["background", *dataset.class_names]})

    def compile(self, model, cfg: TrainConfig, data: FitData | None = None) -> None:
        if data is not None:
            names = data.extra["class_names"]
            if len(names) != len(model.class_names):
                raise ModelError(f"the model has {len(model.class_names) - 1} classes, the "
                                 f"data {len(names) - 1}")
            model.class_names = list(names)
        steps = data.steps_per_epoch if data else None
        # map_fn, NMS and boolean masks have data-dependent shapes XLA cannot compile.
        model.compile(optimizer=hyper.make_optimizer(cfg, steps), jit_compile=False,
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

    def evaluate(self, model, data: FitData, batch_size: int) -> dict[str, float]:
        if not data.num_test:
            return {}
        figures = evaluate_split(model, data.test, batch_size)
        data.extra["evaluation"] = figures
        return {k: float(v) for k, v in figures.items() if isinstance(v, (int, float))}

    def after_fit(self, model, data: FitData, run_dir) -> dict | None:
        """The test split's COCOeval figures → run_dir/evaluation.json."""
        figures = data.extra.get("evaluation")
        if figures is None:
            if not data.num_test:
                return None
            figures = evaluate_split(model, data.test)
        from cnnstudio.core.families.detection.coco_eval import write_evaluation

        path = write_evaluation(Path(run_dir, "evaluation.json"), figures, base={
            "task": "detection", "metric": "COCOeval", "num_test": data.num_test,
            "class_names": list(model.class_names)})
        return json.loads(path.read_text())


INSTANCE = DetectionTask()   # registered by the family plugin
