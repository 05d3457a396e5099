"""Fast R-CNN (Girshick 2015; book chapter 7): architecture ``fast-rcnn``, task
"fast-rcnn".

Light on purpose: registering it imports no Keras. The network and its ``train_step``
live in ``fast_rcnn_models_tf.py`` (RoI pooling in ``roi_pool_tf.py``, proposal labelling,
sampling and per-class NMS in ``region_targets.py``); data, compilation, evaluation and
per-epoch probes in ``fast_rcnn_task.py``. Proposals come from selective search
(``selective_search.propose``), computed once per training image and cached.
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.families.detection.detector_build import square_colour_build
from cnnstudio.core.families.profile import Plot, Profile, Series
from cnnstudio.core.options import Choice, Float, Int

MODELS = "cnnstudio.core.families.detection.fast_rcnn_models_tf"


_build = square_colour_build("fast-rcnn", MODELS, "build_fast_rcnn")


FAST_RCNN = Architecture(
    "fast-rcnn", "Fast R-CNN (book ch. 7)",
    "One CNN pass per image; each selective-search proposal is RoI-max-pooled from the "
    "shared feature map to 7×7 and classified (classes + background) and its box refined "
    "by two dense heads, trained together with one multi-task loss. Trains from scratch on "
    "the shapes dataset.",
    "Girshick 2015 (Fast R-CNN); Uijlings et al. 2013 (selective search); the book's "
    "chapter 7", _build,
    specs=(Int("filters", 16, 4, 256, "width of the backbone's first stage (doubling per "
               "stage, three stages, stride 4)"),
           Int("head_units", 256, 16, 2048, "units of the two dense layers after RoI pooling"),
           Int("rois_per_image", 32, 4, 512, "RoIs sampled per training image and step "
               "(the paper: 64 of ~2,000 proposals; selective search finds a few dozen "
               "on shapes)", rebuild=False),
           Float("fg_fraction", 0.25, 0.05, 1.0, "share of foreground RoIs in a sample (the "
                 "paper: 25%)", rebuild=False),
           Float("bg_low", 0.0, 0.0, 0.49, "proposals with best IoU in [bg_low, 0.5) are "
                 "background (the paper: 0.1, a hard-negative heuristic)", rebuild=False),
           Choice("proposal_mode", "fast", ("fast", "quality"), "selective search's "
                  "strategy (one colour space and scale, or several)", rebuild=False),
           Int("max_proposals", 300, 10, 2000, "selective-search proposals per image",
               rebuild=False),
           Float("min_score", 0.05, 0.0, 1.0, "least class score reported", rebuild=False),
           Int("max_detections", 20, 1, 100, "most instances reported per image",
               rebuild=False)),
    task="fast-rcnn", min_size=32, preferred_size=64)


FAST_RCNN_PROFILE = Profile(
    "fast-rcnn", "detection",
    (Plot("Total loss", (Series("loss", "loss"),), log_y=True),
     Plot("Multi-task loss", (Series("class_loss", "class (softmax)"),
                              Series("box_loss", "box (smooth L1, foreground)")), log_y=True),
     Plot("Sampled RoIs", (Series("fg_fraction", "foreground share"),), y_range=(0, 1))),
    prediction="detect", best_metric="val_loss", best_mode="min")
