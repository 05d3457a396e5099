"""The pretrained COCO Mask R-CNN as a pickable model: its preset validates, a run of it is
refused with one message before any folder exists, and the sample photos load offline."""

from pathlib import Path

import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, RunConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.errors import ConfigError, ModelError
from cnnstudio.core.families.detection.sample_photos import GREY, letterbox
from cnnstudio.core.families.profile import arch_profile
from cnnstudio.core.registry import ARCHITECTURES

PRESET = Path(__file__).resolve().parents[2] / "cnnstudio" / "resources" / "presets" / \
    "chapter7-maskrcnn-coco-pretrained.json"


def test_the_coco_preset_opens_detection_views_and_refuses_to_train(tmp_path):
    from cnnstudio.core.training.engine import run

    config = RunConfig.load(PRESET)
    assert config.problems() == []
    profile = arch_profile(config.model.id)
    assert (profile.task, profile.prediction) == ("coco-pretrained", "detect")
    with pytest.raises(ModelError, match="nothing to build or train"):
        ARCHITECTURES.get("maskrcnn-coco").build((512, 512, 3), 6)
    with pytest.raises(ConfigError, match="--coco-pretrained"):
        run(config, runs_root=tmp_path / "runs")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_sample_photos_are_letterboxed_offline():
    data = load_dataset(DatasetConfig("photos", {"size": 96}), lambda event: None)
    assert data.train.x.shape == (6, 96, 96, 3) and data.class_names[0] == "astronaut"
    wide = np.full((2, 4, 3), 255, np.uint8)
    boxed = letterbox(wide, 8)
    assert (boxed[2:6] == 255).all() and (boxed[:2] == GREY).all() and (boxed[6:] == GREY).all()
