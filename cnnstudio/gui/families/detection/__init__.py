"""The detection family's panels: the Detections tab, the pipeline stepper, the prediction
dock's detection view and the COCO Mask R-CNN action."""

from cnnstudio.gui.families.detection import (  # noqa: F401
    detection_prediction_view,
    detections_panel,
    haar_panel,
    haar_prediction_view,
    pipeline_stepper,
)
