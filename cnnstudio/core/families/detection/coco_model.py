"""``maskrcnn-coco``: the pretrained COCO Mask R-CNN as a model the studio can pick (task
"coco-pretrained"), so the preset ``chapter7-maskrcnn-coco-pretrained`` opens the
detection views on real photos.

It comes trained (a TF2 Detection Zoo SavedModel, see ``coco_pretrained.py``), so there is
nothing to build or train: building says so (the architecture panel shows it and Train
stays off), and a run is refused before its folder exists (``coco_task.py``). Images are
given to it in the Detections tab, the prediction dock, File → Find objects with the COCO
Mask R-CNN, or ``cnnstudio detect IMAGE --coco-pretrained``.
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.errors import ModelError
from cnnstudio.core.families.detection import coco_pretrained as zoo
from cnnstudio.core.families.profile import Profile

NOTHING_TO_TRAIN = (
    f"maskrcnn-coco is the pretrained {zoo.TITLE}, a SavedModel trained on COCO: there is "
    "nothing to build or train. Click a sample or drop a photo to find objects with it "
    "(it asks before its first download), or run: cnnstudio detect IMAGE --coco-pretrained")


def _build(input_shape, num_classes):
    raise ModelError(NOTHING_TO_TRAIN)


MASKRCNN_COCO = Architecture(
    "maskrcnn-coco", "Mask R-CNN, pretrained on COCO (download)",
    "The TF2 Detection Zoo's Mask R-CNN with an Inception ResNet V2 backbone at 1024×1024 "
    "(COCO 39.0 box / 34.6 mask mAP): masks, boxes and classes of 80 everyday things in "
    f"real photos. Downloaded on first use ({zoo.SIZE_TEXT}).",
    "He et al. 2017; TensorFlow 2 Detection Zoo; the book's chapter 7", _build,
    task="coco-pretrained")

# No curves (nothing trains); the prediction dock draws instances.
COCO_PROFILE = Profile("coco-pretrained", "detection", (),
                                        prediction="detect", best_metric="loss",
                                        best_mode="min")
