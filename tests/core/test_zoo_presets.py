"""Each chapter's model has a preset: plain RunConfig JSON that validates."""

from pathlib import Path

import pytest

from cnnstudio.core.config import RunConfig

PRESETS = Path(__file__).resolve().parents[2] / "cnnstudio" / "resources" / "presets"
CHAPTERS = sorted(PRESETS.glob("chapter*.json"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_preset_is_a_valid_run_config(path):
    config = RunConfig.load(path)
    assert config.name.startswith("Chapter ") and config.problems() == []


def test_every_zoo_model_has_a_chapter_preset():
    models = {RunConfig.load(p).model.id for p in CHAPTERS}
    assert models >= {"book-cifar", "dogs-vs-cats", "traffic-signs-bn", "alexnet", "vgg-small",
                      "vgg16", "googlenet", "resnet", "transfer"}
