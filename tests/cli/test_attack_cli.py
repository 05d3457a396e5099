"""``cnnstudio attack RUN [IMAGE] --eps 0.1 [--method pgd] [--target C] [--out a.png]
[--curve --json]`` on a tiny digits run; a non-classifier run or bad input: one line, exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from cnnstudio.cli import main
from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.training import engine

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("attack-runs")
    config = RunConfig(DatasetConfig("digits", {}), ModelConfig("mlp", {"units": 16}),
                       TrainConfig(epochs=3, batch_size=64))
    return engine.run(config, runs_root=root).run_dir


@pytest.fixture(scope="module")
def digit(mlp_run, tmp_path_factory):
    from cnnstudio.core.probes.adversarial_curve import sample_test_split

    images, labels, _ = sample_test_split(mlp_run, count=1)
    path = tmp_path_factory.mktemp("img") / "digit.png"
    Image.fromarray(images[0][..., 0]).save(path)
    return path, images[0]


def test_an_image_attack_prints_top5_before_after_and_writes_the_png(mlp_run, digit, tmp_path,
                                                                    capsys):
    path, pixels = digit
    out = tmp_path / "adv.png"
    assert main(["attack", str(mlp_run), str(path), "--eps", "0.1", "--out", str(out),
                 "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["method"] == "fgsm" and answer["eps"] == 0.1
    assert len(answer["before"]) == len(answer["after"]) == 5
    written = np.asarray(Image.open(out)).astype(int)
    change = np.abs(written - pixels[..., 0].astype(int))
    assert written.shape == pixels.shape[:2] and 0 < change.max() <= 25   # ⌊0.1·255⌋
    assert answer["max_change"] == change.max()


def test_a_targeted_pgd_attack_names_its_target(mlp_run, digit, capsys):
    path, _ = digit
    assert main(["attack", str(mlp_run), str(path), "--eps", "0.3", "--method", "pgd",
                 "--target", "3"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("PGD ε=0.3 toward 3:") and "before: " in text and "after:  " in text


def test_the_curve_starts_at_the_clean_accuracy_and_writes_example_rows(mlp_run, tmp_path,
                                                                         capsys):
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.probes.adversarial import probabilities
    from cnnstudio.core.probes.adversarial_curve import sample_test_split
    from cnnstudio.core.training.rundir import RunDir

    out = tmp_path / "rows.png"
    assert main(["attack", str(mlp_run), "--curve", "--eps-values", "0,0.1,0.3",
                 "--samples", "120", "--out", str(out), "--json"]) == 0
    curve = json.loads(capsys.readouterr().out)
    images, labels, _ = sample_test_split(mlp_run, count=120)
    model = load_model_file(RunDir.open(mlp_run).model_path())
    clean = float((probabilities(model, images).argmax(axis=1) == labels).mean())
    assert curve["eps"] == [0.0, 0.1, 0.3] and curve["test_images"] == 120
    assert curve["accuracy"][0] == pytest.approx(clean)
    assert curve["accuracy"][2] < curve["accuracy"][0]
    assert np.asarray(Image.open(out)).shape == (3 * 8 + 2 * 2, 8 * 8 + 7 * 2)


@pytest.mark.parametrize("args, message", [
    ([], "give an IMAGE to attack, or --curve"),
    (["{img}", "--eps", "2"], "--eps must be between 0 and 1"),
    (["{img}", "--target", "zebra"], "unknown class 'zebra'"),
    (["{img}", "--out", "{tmp}/a.jpg"], "--out must name a .png file"),
    (["{tmp}/missing.png"], "missing.png"),
    (["--curve", "--eps-values", "0,x"], "--eps-values must be numbers"),
])
def test_bad_input_is_one_line_and_exit_code_2(mlp_run, digit, tmp_path, capsys, args,
                                               message):
    args = [a.replace("{img}", str(digit[0])).replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["attack", str(mlp_run), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_gan_run_is_refused_with_the_runs_attack_works_on(tmp_path, digit, capsys):
    config = RunConfig(DatasetConfig("digits", {}),
                       ModelConfig("gan-mlp", {"latent_size": 8, "hidden_units": 16}),
                       TrainConfig(epochs=1, batch_size=256, validation_split=0.0))
    run_dir = engine.run(config, runs_root=tmp_path).run_dir
    assert main(["attack", str(run_dir), str(digit[0])]) == 2
    err = capsys.readouterr().err
    assert "attack works on classification and transfer runs" in err and "gan-mlp" in err
    assert err.count("\n") == 1
