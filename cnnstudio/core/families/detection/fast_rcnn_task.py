"""Task "fast-rcnn": how the engine trains ``fast-rcnn``.

    task.check(dataset, options, cfg)                 # boxes needed; keeps the options
    data = task.prepare(dataset, shape, cfg, sink)    # images + their labelled proposals
    task.evaluate(model, data, batch_size)            # COCOeval box AP on the test split
    task.after_fit(model, data, run_dir)              # … written to evaluation.json

Each training image's selective-search proposals (cached by content, so a resumed run or a
second run on the same data does not search again) plus its ground-truth boxes are
labelled once with ``region_targets.label_proposals`` (IoU ≥ 0.5 → the class; in
[bg_low, 0.5) → background; else ignored) and padded to a fixed count per image
(label −1), so ``fit`` takes plain arrays; the model samples its RoIs from them at every
step. Probes are Mask R-CNN's: detections on fixed test images every epoch.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import Dataset
from cnnstudio.core.errors import DataError, ModelError
from cnnstudio.core.families.detection import region_targets
from cnnstudio.core.families.detection.instance_split import InstanceSplit
from cnnstudio.core.training import hyper
from cnnstudio.core.training.batches import split_indices
from cnnstudio.core.training.events import Notice, Progress
from cnnstudio.core.training.tasks import FitData

DEFAULTS = {"proposal_mode": "fast", "max_proposals": 300, "bg_low": 0.0,
            "rois_per_image": 32}


def labelled_proposals(split: InstanceSplit, indices, options: dict, sink=None) -> dict:
    """``fit`` arrays of a split's images: images, rois (n, P, 4), roi_labels (n, P) and
    roi_targets (n, P, 4), P the most candidates of any image (at least rois_per_image)."""
    from cnnstudio.core.families.detection.fast_rcnn_models import proposals_of

    rows = []
    for k, i in enumerate(indices):
        if sink is not None and k % 100 == 0:
            sink(Progress("proposals", k, len(indices), "selective search on the training "
                          f"images ({k} of {len(indices)})"))
        ann = split.annotations[i]
        gt = np.asarray(ann["boxes"], np.float32).reshape(-1, 4)
        boxes = np.concatenate([proposals_of(split.x[i], options["proposal_mode"],
                                             options["max_proposals"]), gt])
        ids, targets = region_targets.label_proposals(
            boxes, gt, ann["class_ids"], fg_iou=0.5, bg_iou=(options["bg_low"], 0.5))
        rows.append((boxes, ids, targets))
    count = max([len(r[0]) for r in rows] + [options["rois_per_image"]])
    n = len(rows)
    rois = np.zeros((n, count, 4), np.float32)
    labels = np.full((n, count), -1, np.int32)
    targets = np.zeros((n, count, 4), np.float32)
    for r, (boxes, ids, deltas) in enumerate(rows):
        rois[r, :len(boxes)], labels[r, :len(boxes)], targets[r, :len(boxes)] = \
            boxes, ids, deltas
    return {"images": split.x[np.asarray(indices, np.int64)], "rois": rois,
            "roi_labels": labels, "roi_targets": targets}


def evaluate_split(model, split: InstanceSplit) -> dict:
    """COCOeval box AP of the model's detections on a split (mask keys None)."""
    from cnnstudio.core.families.detection import coco_eval

    found = [model.detect_image(image, cache=True) for image in split.x]
    return coco_eval.coco_metrics(split.annotations, found)


class FastRCNNTask:
    name = "fast-rcnn"
    run_eagerly = False

    def __init__(self):
        # check() sees the architecture's options on every run and resume; prepare() does
        # not get them but needs the proposal and labelling settings.
        self.options = dict(DEFAULTS)

    def build_model(self, arch, input_shape, num_classes, options, cfg: TrainConfig):
        height, width = input_shape[:2]
        if min(height, width) < arch.min_size:
            raise ModelError(f"{arch.id} needs images of at least {arch.min_size}×"
                             f"{arch.min_size}, got {height}×{width}")
        return arch.build_fn(tuple(int(s) for s in input_shape), int(num_classes),
                             **arch.options(options))

    def check(self, dataset: Dataset, options: dict, cfg: TrainConfig) -> None:
        if not isinstance(dataset.train, InstanceSplit):
            raise DataError(f"Fast R-CNN needs a dataset with object boxes (shapes, or COCO "
                            f"annotations); {dataset.id} has one label per image")
        self.options = {**DEFAULTS, **{k: v for k, v in options.items() if k in DEFAULTS}}

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        if not isinstance(dataset.train, InstanceSplit):
            raise DataError(f"Fast R-CNN needs a dataset with object boxes; {dataset.id} has "
                            "one label per image")
        train = dataset.train
        usable = np.array([i for i, a in enumerate(train.annotations) if len(a["class_ids"])],
                          np.int64)
        if len(usable) < len(train):
            sink(Notice(f"{len(train) - len(usable)} training images have no instances and "
                        "are left out", level="info"))
        if len(usable) == 0:
            raise DataError(f"dataset {dataset.id} has no training image with instances")
        tr, val = split_indices(len(usable), cfg.validation_split, cfg.seed)
        bs = cfg.batch_size
        kwargs = {"x": labelled_proposals(train, usable[tr], self.options, sink),
                  "batch_size": bs, "shuffle": True}
        if len(val):
            kwargs["validation_data"] = labelled_proposals(train, usable[val], self.options)
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
        figures = evaluate_split(model, data.test)
        data.extra["evaluation"] = figures
        return {k: float(v) for k, v in figures.items() if isinstance(v, (int, float))}

    def after_fit(self, model, data: FitData, run_dir) -> dict | None:
        """The test split's COCOeval box figures → run_dir/evaluation.json."""
        figures = data.extra.get("evaluation")
        if figures is None:
            if not data.num_test:
                return None
            figures = evaluate_split(model, data.test)
        from cnnstudio.core.families.detection.coco_eval import write_evaluation

        path = write_evaluation(Path(run_dir, "evaluation.json"), figures, base={
            "task": "fast-rcnn", "metric": "COCOeval", "num_test": data.num_test,
            "class_names": list(model.class_names)})
        return json.loads(path.read_text())


INSTANCE = FastRCNNTask()   # registered by the family plugin
