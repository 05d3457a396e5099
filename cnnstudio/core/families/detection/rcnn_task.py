"""Task "rcnn": how the engine trains ``rcnn``.

    task.check(dataset, options, cfg)                 # boxes needed; keeps the options
    data = task.prepare(dataset, shape, cfg, sink)    # warped, labelled region crops
    task.evaluate(model, data, batch_size)            # COCOeval box AP on the test split
    task.after_fit(model, data, run_dir)              # … written to evaluation.json

R-CNN fine-tunes its CNN on warped regions (Girshick et al. 2014, §2.3): every training
image's selective-search proposals (cached by content: a resumed run, or a second run on
the same data, does not search again) plus its ground-truth boxes are labelled with
``region_targets.label_proposals`` — IoU ≥ 0.5 with a ground-truth box → its class, < 0.3
→ background, the rest ignored — and ``crops_per_image`` of them sampled (at most
``fg_fraction`` foreground) from one generator seeded by the run's seed, so the crops are
the same on every run and resume. ``fit`` then sees plain arrays: crops (M, crop, crop, 3)
uint8, class_ids (M,), box_targets (M, 4). Probes are Mask R-CNN's: detections on fixed
test images every epoch (the Detections tab replays them).
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
from cnnstudio.core.training.events import Notice
from cnnstudio.core.training.tasks import FitData

DEFAULTS = {"proposal_mode": "fast", "max_proposals": 300, "crops_per_image": 24,
            "fg_fraction": 0.25, "crop": 32, "context": 2}
BG_IOU = (0.0, 0.3)                   # the paper's: positives ≥ 0.5, negatives < 0.3
EVAL_CHUNK = 50                       # test images whose crops are classified together


def region_crops(split: InstanceSplit, indices, options: dict, seed: int,
                 sink=None) -> dict:
    """``fit`` arrays of the sampled, labelled, warped regions of a split's images."""
    from cnnstudio.core.families.detection.rcnn_models_tf import warp_crops

    rng = np.random.default_rng(seed)
    crops, ids, targets = [], [], []
    for i, boxes, labels, deltas in region_targets.labelled_regions(split, indices, options,
                                                                    BG_IOU, sink):
        picked = region_targets.sample(labels, options["crops_per_image"],
                                       options["fg_fraction"], rng)
        crops.append(warp_crops(split.x[i], boxes[picked], options["crop"],
                                options["context"]))
        ids.append(labels[picked])
        targets.append(deltas[picked])
    size = options["crop"]
    if not crops:
        return {"crops": np.zeros((0, size, size, 3), np.uint8),
                "class_ids": np.zeros(0, np.int32), "box_targets": np.zeros((0, 4), np.float32)}
    return {"crops": np.concatenate(crops), "class_ids": np.concatenate(ids).astype(np.int32),
            "box_targets": np.concatenate(targets).astype(np.float32)}


class RCNNTask(DetectorTask):
    name, label = "rcnn", "R-CNN"
    DEFAULTS = DEFAULTS
    jit_compile = "auto"

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        usable = self.usable_images(dataset, sink)
        train = dataset.train
        tr, val = split_indices(len(usable), cfg.validation_split, cfg.seed)
        x = region_crops(train, usable[tr], self.options, cfg.seed, sink)
        count, bs = len(x["class_ids"]), cfg.batch_size
        kwargs = {"x": x, "batch_size": bs, "shuffle": True}
        if len(val):
            kwargs["validation_data"] = region_crops(train, usable[val], self.options,
                                                     cfg.seed + 1)
        fg = int((x["class_ids"] > 0).sum())
        sink(Notice(f"R-CNN trains on {count} warped regions of {len(tr)} images "
                    f"({fg} foreground, {count - fg} background)", level="info"))
        return FitData(kwargs, dataset.test, count, len(val), len(dataset.test),
                       math.ceil(count / bs),
                       extra={"class_names": ["background", *dataset.class_names]})

    def evaluate_split(self, model, split: InstanceSplit, batch_size: int = 16) -> dict:
        """COCOeval box AP of the model's detections on a split (mask keys None)."""
        from cnnstudio.core.families.detection import coco_eval

        found = []
        for start in range(0, len(split), EVAL_CHUNK):
            found.extend(model.detect_batch(split.x[start:start + EVAL_CHUNK]))
        return coco_eval.coco_metrics(split.annotations, found)


INSTANCE = RCNNTask()   # registered by the family plugin
