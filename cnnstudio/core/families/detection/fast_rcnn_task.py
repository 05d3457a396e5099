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

import math

import numpy as np

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import Dataset
from cnnstudio.core.families.detection import region_targets
from cnnstudio.core.families.detection.detector_task import DetectorTask
from cnnstudio.core.families.detection.instance_split import InstanceSplit
from cnnstudio.core.training.batches import split_indices
from cnnstudio.core.training.tasks import FitData

DEFAULTS = {"proposal_mode": "fast", "max_proposals": 300, "bg_low": 0.0,
            "rois_per_image": 32}


def labelled_proposals(split: InstanceSplit, indices, options: dict, sink=None) -> dict:
    """``fit`` arrays of a split's images: images, rois (n, P, 4), roi_labels (n, P) and
    roi_targets (n, P, 4), P the most candidates of any image (at least rois_per_image)."""
    rows = [(boxes, ids, targets) for _, boxes, ids, targets in region_targets.labelled_regions(
        split, indices, options, (options["bg_low"], 0.5), sink)]
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


class FastRCNNTask(DetectorTask):
    name, label = "fast-rcnn", "Fast R-CNN"
    DEFAULTS = DEFAULTS

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        usable = self.usable_images(dataset, sink)
        train = dataset.train
        tr, val = split_indices(len(usable), cfg.validation_split, cfg.seed)
        bs = cfg.batch_size
        kwargs = {"x": labelled_proposals(train, usable[tr], self.options, sink),
                  "batch_size": bs, "shuffle": True}
        if len(val):
            kwargs["validation_data"] = labelled_proposals(train, usable[val], self.options)
        return FitData(kwargs, dataset.test, len(tr), len(val), len(dataset.test),
                       math.ceil(len(tr) / bs),
                       extra={"class_names": ["background", *dataset.class_names]})

    def evaluate_split(self, model, split: InstanceSplit, batch_size: int = 16) -> dict:
        """COCOeval box AP of the model's detections on a split (mask keys None)."""
        from cnnstudio.core.families.detection import coco_eval

        found = [model.detect_image(image, cache=True) for image in split.x]
        return coco_eval.coco_metrics(split.annotations, found)


INSTANCE = FastRCNNTask()   # registered by the family plugin
