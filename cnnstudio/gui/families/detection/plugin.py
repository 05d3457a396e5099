"""What the detection family adds to the window (chapter 7): its centre tabs and its
prediction views."""

from __future__ import annotations

from cnnstudio.gui.registry import (
    MenuAction,
    PanelSpec,
    register_menu_action,
    register_panel,
    register_prediction_view,
)


def register() -> None:
    from cnnstudio.gui.families.detection import coco_action
    from cnnstudio.gui.families.detection.detection_prediction_view import DetectionPredictionView
    from cnnstudio.gui.families.detection.detections_panel import DetectionsPanel
    from cnnstudio.gui.families.detection.haar_panel import HaarPanel
    from cnnstudio.gui.families.detection.haar_prediction_view import HaarPredictionView
    from cnnstudio.gui.families.detection.pipeline_stepper import PipelineStepper

    register_prediction_view("detect", DetectionPredictionView)
    register_panel(PanelSpec(
        "detections", "Detections",
        "Instances over the image (masks, boxes, classes, scores), replayable per epoch; drop a "
        "photo to detect in it",
        DetectionsPanel, tasks={"detection", "coco-pretrained", "rcnn", "fast-rcnn"}))
    register_panel(PanelSpec(
        "haar", "Haar cascade",
        "Viola-Jones: pick a cascade, move the sliders, see the stages reject windows and the "
        "image pyramid; drop a photo to search it", HaarPanel, frozenset({"haar"})))
    register_prediction_view("haar", HaarPredictionView)
    register_panel(PanelSpec(
        "pipeline", "Pipeline",
        "Mask R-CNN step by step on one image: anchors → RPN proposals → NMS → refined boxes "
        "and classes → masks",
        PipelineStepper, tasks={"detection"}))
    from cnnstudio.gui.families.detection.rcnn_story_panel import RcnnStoryPanel

    register_panel(PanelSpec(
        "rcnn-story", "R-CNN story",
        "One image through R-CNN, Fast R-CNN, Faster R-CNN's proposal network and Mask R-CNN, "
        "step by step, with each one's time: why each was invented (book chapter 7)",
        RcnnStoryPanel, tasks={"rcnn", "fast-rcnn", "detection"},
        screenshot="rcnn-story.png"))
    register_menu_action(MenuAction(
        "coco", "File", coco_action.ACTION_TEXT, coco_action.open_dialog,
        tip="The pretrained COCO Mask R-CNN on the image picked last (or one you open): masks, "
            "boxes and classes of 80 everyday things. Asks before its first download.",
        setup=coco_action.remember_chosen_images))
