"""The detection family (book chapter 7): Haar cascades, the compact Mask R-CNN and the
pretrained COCO Mask R-CNN, all reporting ``instances.Instances``.

Each module imported below registers what it offers when imported; heavy (TensorFlow)
modules are imported only when a model is built, loaded or run.
"""

from cnnstudio.core.families.detection import (  # noqa: F401
    coco_dataset,
    coco_model,
    haar,
    maskrcnn,
    sample_photos,
)
