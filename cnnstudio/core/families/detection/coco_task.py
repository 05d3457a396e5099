"""Task "coco-pretrained": the pretrained COCO Mask R-CNN has no training to run.

A run of ``maskrcnn-coco`` is refused with one clear message before its run folder
exists (the engine calls ``check`` first), instead of failing inside Keras.
"""

from __future__ import annotations

from cnnstudio.core.errors import ConfigError
from cnnstudio.core.families.detection.coco_model import NOTHING_TO_TRAIN


class PretrainedOnly:
    name = "coco-pretrained"

    def check(self, dataset, options: dict, cfg) -> None:
        raise ConfigError(NOTHING_TO_TRAIN)


INSTANCE = PretrainedOnly()   # registered by the family plugin
