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

import math

import numpy as np

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import Dataset
from cnnstudio.core.families.detection.detector_task import DetectorTask
from cnnstudio.core.families.detection.instance_split import InstanceSplit
from cnnstudio.core.training.batches import split_indices
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


class DetectionTask(DetectorTask):
    name, label, needs = "detection", "Mask R-CNN", "instance masks"

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        usable = self.usable_images(dataset, sink)
        train = dataset.train
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

    def evaluate_split(self, model, split: InstanceSplit, batch_size: int = 16) -> dict:
        return evaluate_split(model, split, batch_size)


INSTANCE = DetectionTask()   # registered by the family plugin
