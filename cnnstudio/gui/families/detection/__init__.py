"""The detection family's panels: the Detections tab, the pipeline stepper, the prediction
dock's detection view and the COCO Mask R-CNN action."""
