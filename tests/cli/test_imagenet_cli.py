"""`cnnstudio predict RUN IMG --imagenet`: a transfer run's base with its ImageNet head."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from cnnstudio.cli import main
from cnnstudio.core.config import RunConfig
from cnnstudio.core.families.classification import transfer
from cnnstudio.core.training.engine import run
from tests.core.test_imagenet_top5 import stand_in_classifier, write_fake_class_index


@pytest.fixture(scope="module")
def imagenet_run(tmp_path_factory):
    """A trained transfer run whose config says ImageNet weights. It trains from random
    weights (nothing may be downloaded here) and the config is then marked as ImageNet."""
    root = tmp_path_factory.mktemp("runs")
    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 32}
    config.model.id = "transfer"
    config.model.options = {"base": "mobilenetv2", "weights": "none", "head_units": 8}
    config.training.epochs = 1
    result = run(config, runs_root=root)
    assert result.status == "finished", result.summary
    path = result.run_dir / "config.json"
    saved = json.loads(path.read_text())
    saved["model"]["options"]["weights"] = "imagenet"
    path.write_text(json.dumps(saved))
    image = root / "photo.png"
    cv2.imwrite(str(image), np.full((40, 50, 3), 128, np.uint8))
    return result.run_dir, image


@pytest.mark.slow
def test_imagenet_flag_prints_the_top5_of_the_base(imagenet_run, monkeypatch, capsys):
    run_dir, image = imagenet_run
    write_fake_class_index()
    asked = []
    monkeypatch.setattr(transfer, "imagenet_classifier",
                        lambda base, progress=None: asked.append(base) or stand_in_classifier())
    assert main(["predict", str(run_dir), str(image), "--imagenet", "--json"]) == 0
    top = json.loads(capsys.readouterr().out)[0]["top"]
    assert asked == ["mobilenetv2"]
    assert [t["class"] for t in top] == ["class_417", "class_3", "class_999", "class_0",
                                         "class_500"]


def test_imagenet_flag_offline_is_one_clear_line(imagenet_run, capsys):
    run_dir, image = imagenet_run
    assert main(["predict", str(run_dir), str(image), "--imagenet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("cnnstudio: error: ImageNet top-5 needs the class list")
    assert transfer.CLASS_INDEX_URL in err
