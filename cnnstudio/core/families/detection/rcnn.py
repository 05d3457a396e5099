"""R-CNN (Girshick, Donahue, Darrell & Malik 2014; book chapter 7): architecture ``rcnn``,
task "rcnn".

Regions with CNN features, the original way: selective search proposes ~20–300 boxes per
image; each is warped (with a little context) to a fixed ``crop`` and a small CNN
classifies it — the classes or background — and refines its box. One CNN call per
proposal: the cost Fast R-CNN removes by sharing one feature map.

Light on purpose: registering it imports no Keras. The network lives in
``rcnn_models_tf.py``; proposals, labels, crops, evaluation and probes in ``rcnn_task.py``.
Two departures from the paper, both Fast R-CNN's: the softmax scores the regions (no
per-class SVMs), and the box regressor trains with the classifier (one multi-task loss).
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.families.detection.detector_build import square_colour_build
from cnnstudio.core.families.profile import Plot, Profile, Series
from cnnstudio.core.options import Choice, Float, Int

MODELS = "cnnstudio.core.families.detection.rcnn_models_tf"


_build = square_colour_build("rcnn", MODELS, "build_rcnn")


RCNN = Architecture(
    "rcnn", "R-CNN (book ch. 7)",
    "Selective search proposes regions; each is warped to a fixed crop with a little "
    "context and a small CNN classifies it (classes + background) and refines its box; "
    "per-class non-maximum suppression keeps the best. One CNN call per proposal: slow on "
    "purpose, next to Fast R-CNN's single pass. Trains from scratch on the shapes dataset.",
    "Girshick, Donahue, Darrell & Malik 2014 (R-CNN); Uijlings et al. 2013 (selective "
    "search); the book's chapter 7", _build,
    specs=(Int("crop", 32, 16, 128, "side of the warped region the CNN sees", unit="px"),
           Int("context", 2, 0, 16, "context pixels around the region inside the crop "
               "(the paper: 16 of 227)", unit="px"),
           Int("filters", 16, 4, 128, "width of the CNN's first stage (doubling per stage, "
               "three stages)"),
           Int("units", 128, 16, 1024, "units of the dense layer before the two heads"),
           Int("crops_per_image", 24, 4, 256, "labelled proposals sampled per training "
               "image (ground truth included)", rebuild=False),
           Float("fg_fraction", 0.25, 0.05, 1.0, "most foreground share of those (the "
                 "paper's mini-batches: 25%)", rebuild=False),
           Choice("proposal_mode", "fast", ("fast", "quality"), "selective search's "
                  "strategy (one colour space and scale, or several)", rebuild=False),
           Int("max_proposals", 300, 10, 2000, "selective-search proposals per image",
               rebuild=False),
           Float("min_score", 0.05, 0.0, 1.0, "least class score reported", rebuild=False),
           Float("nms_iou", 0.3, 0.05, 0.95, "per-class NMS overlap (the paper: 0.3)",
                 rebuild=False),
           Int("max_detections", 20, 1, 100, "most instances reported per image",
               rebuild=False)),
    task="rcnn", min_size=32, preferred_size=64)


# R-CNN's curves are its two losses and how many crops it classifies right; runs rank by
# validation loss (COCOeval's AP is in evaluation.json after training).
RCNN_PROFILE = Profile(
    "rcnn", "detection",
    (Plot("Total loss", (Series("loss", "loss"),), log_y=True),
     Plot("Crop losses", (Series("class_loss", "class (softmax)"),
                          Series("box_loss", "box (smooth L1, foreground)")), log_y=True),
     Plot("Crop accuracy", (Series("accuracy", "classes + background"),), y_range=(0, 1))),
    prediction="detect", best_metric="val_loss", best_mode="min")
