"""What the detection family adds to the studio (chapter 7)."""

from __future__ import annotations

from cnnstudio.core.registry import (
    ARCHITECTURES,
    CLI_HOOKS,
    COMMANDS,
    DATASETS,
    PROFILES,
    TASKS,
    register_model_module,
)

PACKAGE = "cnnstudio.core.families.detection"


def register() -> None:
    from cnnstudio.core.families.detection import (
        coco_dataset,
        coco_model,
        haar,
        maskrcnn,
        sample_photos,
        shapes_data,
    )

    for arch in (coco_model.MASKRCNN_COCO, haar.HAAR_CASCADE, maskrcnn.MASKRCNN):
        ARCHITECTURES.register(arch.id, arch)
    for source in (shapes_data.SHAPES, coco_dataset.COCO_SOURCE, sample_photos.PHOTOS_SOURCE):
        DATASETS.register(source.id, source)
    for profile, module in ((coco_model.COCO_PROFILE, "coco_task"),
                            (haar.HAAR_PROFILE, "haar_task"),
                            (maskrcnn.DETECTION_PROFILE, "maskrcnn_task")):
        PROFILES.register(profile.task, profile)
        TASKS.register(profile.task, f"{PACKAGE}.{module}:INSTANCE", lazy=True)
    register_model_module(maskrcnn.MODELS)
    CLI_HOOKS.register(f"predict:{maskrcnn.DETECTION_PROFILE.task}",
                       f"{PACKAGE}.detect_cli:refuse_predict", lazy=True)
    COMMANDS.register("detect", f"{PACKAGE}.detect_cli", lazy=True)
    from cnnstudio.core.families.detection import fast_rcnn

    ARCHITECTURES.register(fast_rcnn.FAST_RCNN.id, fast_rcnn.FAST_RCNN)
    PROFILES.register(fast_rcnn.FAST_RCNN_PROFILE.task, fast_rcnn.FAST_RCNN_PROFILE)
    TASKS.register("fast-rcnn", f"{PACKAGE}.fast_rcnn_task:INSTANCE", lazy=True)
    register_model_module(fast_rcnn.MODELS)
    CLI_HOOKS.register("predict:fast-rcnn", f"{PACKAGE}.detect_cli:refuse_predict", lazy=True)
    from cnnstudio.core.families.detection import rcnn

    ARCHITECTURES.register(rcnn.RCNN.id, rcnn.RCNN)
    PROFILES.register(rcnn.RCNN_PROFILE.task, rcnn.RCNN_PROFILE)
    TASKS.register("rcnn", f"{PACKAGE}.rcnn_task:INSTANCE", lazy=True)
    register_model_module(rcnn.MODELS)
    CLI_HOOKS.register("predict:rcnn", f"{PACKAGE}.detect_cli:refuse_predict", lazy=True)
