"""The prediction panel shows ImageNet top-5 for a transfer run over ImageNet weights, with
the full classifier built once and kept (no weights are downloaded: a stand-in classifier)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.core.config import RunConfig
from cnnstudio.core.families.classification import transfer
from cnnstudio.core.training.rundir import RunDir
from tests.core.test_imagenet_top5 import stand_in_classifier, write_fake_class_index


@pytest.fixture
def transfer_run(tmp_path, monkeypatch):
    write_fake_class_index()
    config = RunConfig()
    config.model.id, config.model.options = "transfer", {"base": "vgg16", "weights": "imagenet"}
    folder = RunDir.create(config, path=tmp_path / "transfer-run")
    stand_in_classifier().save(folder.path / "model.keras")      # a 1000-class 32×32 model
    (folder.path / "dataset.json").write_text(json.dumps(
        {"input_shape": [32, 32, 3], "class_names": [f"c{i}" for i in range(1000)]}))
    built = []
    monkeypatch.setattr(transfer, "imagenet_classifier",
                        lambda base, progress=None: built.append(base) or stand_in_classifier())
    return folder.path, built


def test_imagenet_top5_in_the_panel_with_one_classifier(qtbot, studio, transfer_run):
    path, built = transfer_run
    panel = studio.prediction
    panel.set_run_dir(path)
    view = panel.view_for("classify")
    assert view.imagenet_box.isVisibleTo(panel) and not view.imagenet_bars.isVisibleTo(panel)
    view.imagenet_box.setChecked(True)
    image = np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    for _ in range(2):
        with qtbot.waitSignal(panel.shown, timeout=60_000):
            panel.predict_image(image, "a photo")
    assert built == ["vgg16"]                                  # built once, kept
    assert view.imagenet_bars.isVisibleTo(panel)
    assert [n for n, _ in view.imagenet_bars.rows] == ["class_417", "class_3", "class_999",
                                                        "class_0", "class_500"]
    assert "VGG16 base" in view.imagenet_title.text()
    panel.set_run_dir(None)
    assert not view.imagenet_box.isVisibleTo(panel)
