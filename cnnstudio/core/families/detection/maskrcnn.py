"""The studio's compact Mask R-CNN (book chapter 7): architecture ``maskrcnn``, task
"detection".

Light on purpose: registering it imports no Keras. The network and its ``train_step`` live
in ``maskrcnn_models_tf.py`` (TensorFlow glue in ``maskrcnn_tf.py``, losses in
``maskrcnn_losses_tf.py``); data, compilation, evaluation and per-epoch probes in
``maskrcnn_task.py``; the step-by-step pipeline for the GUI in ``maskrcnn_probes.py``.
"""

from __future__ import annotations

from cnnstudio.core.errors import ModelError
from cnnstudio.core.families import register_model_module, register_task_module
from cnnstudio.core.families.profile import Plot, Profile, Series, register_profile
from cnnstudio.core.models import ARCHITECTURES
from cnnstudio.core.models.base import Architecture

MODELS = "cnnstudio.core.families.detection.maskrcnn_models_tf"

LIMITS = {"filters": (4, 256), "fpn_filters": (8, 256), "head_units": (16, 2048),
          "mask_filters": (4, 256), "blocks": (1, 4), "proposals": (1, 1000),
          "max_detections": (1, 100)}


def _build(input_shape, num_classes, **options):
    from cnnstudio.core.families.detection import maskrcnn_models_tf

    for name, (low, high) in LIMITS.items():
        value = options.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ModelError(f"maskrcnn: {name} must be an integer between {low} and {high}, "
                             f"got {value!r}")
    height, width = input_shape[:2]
    if height != width or input_shape[2] != 3:
        raise ModelError(f"maskrcnn needs square colour images, got {height}×{width}×"
                         f"{input_shape[2]}; set the dataset's size option")
    # The real names come from the data when the task compiles a fresh model.
    names = ["background", *(f"class {i}" for i in range(1, int(num_classes) + 1))]
    return maskrcnn_models_tf.build_maskrcnn(height, names, **options)


MASKRCNN = Architecture(
    "maskrcnn", "Mask R-CNN (compact, book ch. 7)",
    "A small Mask R-CNN: ResNet-style backbone with an FPN, a region proposal network over "
    "anchors at two scales and three ratios, NMS proposals, RoIAlign, and heads for class, "
    "box refinement and a 28×28 mask per class. Trains from scratch on the shapes dataset.",
    "He, Gkioxari, Dollár & Girshick 2017; Ren et al. 2015 (Faster R-CNN); the book's "
    "chapter 7", _build,
    defaults={"filters": 32, "fpn_filters": 64, "head_units": 256, "mask_filters": 32,
              "blocks": 1, "proposals": 50, "max_detections": 20},
    options_help={
        "filters": "width of the backbone's first stage (doubling per stage)",
        "fpn_filters": "channels of the feature pyramid levels P2–P4",
        "head_units": "units of the box head's two dense layers",
        "mask_filters": "channels of the mask head's convolutions",
        "blocks": "residual blocks per backbone stage",
        "proposals": "RPN proposals kept after NMS for the heads at inference",
        "max_detections": "most instances reported per image"},
    task="detection", min_size=32, preferred_size=128)

ARCHITECTURES.register(MASKRCNN.id, MASKRCNN)

# Detection has no accuracy: the curves are its five losses; runs rank by validation loss
# (AP figures, from COCOeval, are in evaluation.json after training).
DETECTION_PROFILE = register_profile(Profile(
    "detection", "detection",
    (Plot("Total loss", (Series("loss", "loss"),), log_y=True),
     Plot("Region proposal network", (Series("rpn_class_loss", "objectness"),
                                      Series("rpn_box_loss", "anchor boxes")), log_y=True),
     Plot("Heads", (Series("class_loss", "class"), Series("box_loss", "box"),
                    Series("mask_loss", "mask")), log_y=True)),
    prediction="detect", best_metric="val_loss", best_mode="min"))

register_model_module(MODELS)
register_task_module("cnnstudio.core.families.detection.maskrcnn_task")
