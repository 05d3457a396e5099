"""`cnnstudio predict` says when an image looks nothing like the run's training images."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from cnnstudio.cli import main
from cnnstudio.core.imaging import read_image


@pytest.fixture(scope="module")
def run_and_images(tmp_path_factory):
    from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
    from cnnstudio.core.datasets import dataset_config, load_dataset
    from cnnstudio.core.predict import Predictor
    from cnnstudio.core.training import engine

    root = tmp_path_factory.mktemp("familiar")
    config = RunConfig(DatasetConfig("digits", {}),
                       ModelConfig("mlp", {"units": 64, "hidden_layers": 1}),
                       TrainConfig(epochs=12, batch_size=32, learning_rate=0.005))
    run_dir = engine.run(config, runs_root=root / "runs").run_dir
    predictor = Predictor.from_run(run_dir)
    digits = load_dataset(dataset_config("digits")).test.x
    digit = next(d for d in digits if not predictor.familiarity(d)["unfamiliar"])
    noise = np.random.default_rng(0).integers(0, 256, (8, 8, 1), dtype=np.uint8)
    cv2.imwrite(str(root / "digit.png"), digit[:, :, 0])
    cv2.imwrite(str(root / "noise.png"), noise[:, :, 0])
    assert not predictor.familiarity(read_image(root / "digit.png"))["unfamiliar"]
    assert predictor.familiarity(read_image(root / "noise.png"))["unfamiliar"]
    return run_dir, root / "digit.png", root / "noise.png"


@pytest.mark.slow
def test_json_results_carry_the_flag_and_keep_their_keys(run_and_images, capsys):
    run_dir, digit, noise = run_and_images
    assert main(["predict", str(run_dir), str(digit), str(noise), "--json"]) == 0
    results = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [r["unfamiliar"] for r in results] == [False, True]
    for r in results:
        assert {"file", "top", "adapted"} <= set(r)
        assert r["familiarity"] > r["familiarity_threshold"] if r["unfamiliar"] \
            else r["familiarity"] <= r["familiarity_threshold"]


@pytest.mark.slow
def test_text_output_marks_only_the_unfamiliar_image(run_and_images, capsys):
    run_dir, digit, noise = run_and_images
    assert main(["predict", str(run_dir), str(digit), str(noise)]) == 0
    digit_line, noise_line = capsys.readouterr().out.strip().splitlines()[-2:]
    assert digit_line.startswith("digit.png") and "unfamiliar" not in digit_line
    assert noise_line.startswith("noise.png") and "[unfamiliar:" in noise_line


@pytest.mark.slow
def test_a_run_without_statistics_answers_as_before(run_and_images, tmp_path, capsys):
    run_dir, _, noise = run_and_images
    copy = shutil.copytree(run_dir, tmp_path / "old-run")
    (copy / "familiarity.json").unlink()
    assert main(["predict", str(copy), str(noise), "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) == {"file", "top", "adapted"}
