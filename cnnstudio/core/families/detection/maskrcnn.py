"""The studio's compact Mask R-CNN (book chapter 7): architecture ``maskrcnn``, task
"detection".

Light on purpose: registering it imports no Keras. The network and its ``train_step`` live
in ``maskrcnn_models_tf.py`` (TensorFlow glue in ``maskrcnn_tf.py``, losses in
``maskrcnn_losses_tf.py``); data, compilation, evaluation and per-epoch probes in
``maskrcnn_task.py``; the step-by-step pipeline for the GUI in ``maskrcnn_probes.py``.
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.families.detection.detector_build import square_colour_build
from cnnstudio.core.families.profile import Plot, Profile, Series
from cnnstudio.core.options import Int

MODELS = "cnnstudio.core.families.detection.maskrcnn_models_tf"

_build = square_colour_build("maskrcnn", MODELS, "build_maskrcnn")


MASKRCNN = Architecture(
    "maskrcnn", "Mask R-CNN (compact, book ch. 7)",
    "A small Mask R-CNN: ResNet-style backbone with an FPN, a region proposal network over "
    "anchors at two scales and three ratios, NMS proposals, RoIAlign, and heads for class, "
    "box refinement and a 28×28 mask per class. Trains from scratch on the shapes dataset.",
    "He, Gkioxari, Dollár & Girshick 2017; Ren et al. 2015 (Faster R-CNN); the book's "
    "chapter 7", _build,
    specs=(Int("filters", 32, 4, 256, "width of the backbone's first stage (doubling per stage)"),
           Int("fpn_filters", 64, 8, 256, "channels of the feature pyramid levels P2–P4"),
           Int("head_units", 256, 16, 2048, "units of the box head's two dense layers"),
           Int("mask_filters", 32, 4, 256, "channels of the mask head's convolutions"),
           Int("blocks", 1, 1, 4, "residual blocks per backbone stage"),
           Int("proposals", 50, 1, 1000, "RPN proposals kept after NMS for the heads at "
               "inference", rebuild=False),
           Int("max_detections", 20, 1, 100, "most instances reported per image",
               rebuild=False)),
    task="detection", min_size=32, preferred_size=128)


# Detection has no accuracy: the curves are its five losses; runs rank by validation loss
# (AP figures, from COCOeval, are in evaluation.json after training).
DETECTION_PROFILE = Profile(
    "detection", "detection",
    (Plot("Total loss", (Series("loss", "loss"),), log_y=True),
     Plot("Region proposal network", (Series("rpn_class_loss", "objectness"),
                                      Series("rpn_box_loss", "anchor boxes")), log_y=True),
     Plot("Heads", (Series("class_loss", "class"), Series("box_loss", "box"),
                    Series("mask_loss", "mask")), log_y=True)),
    prediction="detect", best_metric="val_loss", best_mode="min",
    resume_note="Mask R-CNN's TensorFlow ops (RoI sampling aside, which is repeated) add "
                "their gradients in thread order on the CPU, so even two uninterrupted runs "
                "differ by about 1e-3; with TF_DETERMINISTIC_OPS=1 set before the studio "
                "starts, a resumed run repeats the uninterrupted one to the bit",
    single_step="its steps take hundreds of milliseconds, so a call of one step already "
                "pays little dispatch (several per call are not yet checked with its "
                "deterministic resume)")

