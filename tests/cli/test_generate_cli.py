"""``cnnstudio generate RUN_DIR --count 64 --out grid.png [--seed N]``: a square PNG of a GAN
run's samples; bad input is one line and exit code 2."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnstudio.cli import main
from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.training import engine

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("gan-runs")
    config = RunConfig(DatasetConfig("digits", {}),
                       ModelConfig("gan-mlp", {"latent_size": 8, "hidden_units": 16}),
                       TrainConfig(epochs=1, batch_size=256, validation_split=0.0))
    return engine.run(config, runs_root=root).run_dir


def pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def test_generate_writes_a_square_grid_png(gan_run, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["generate", str(gan_run), "--count", "64", "--out", str(out),
                 "--seed", "3"]) == 0
    grid = pixels(out)
    assert grid.shape == (8 * 8 + 7, 8 * 8 + 7)          # 8 × 8 digits of 8×8, 1-pixel gaps
    assert "8×8 grid" in capsys.readouterr().out
    again = tmp_path / "again.png"
    main(["generate", str(gan_run), "--count", "64", "--out", str(again), "--seed", "3"])
    assert np.array_equal(pixels(again), grid)            # same seed, same samples
    other = tmp_path / "other.png"
    main(["generate", str(gan_run), "--count", "64", "--out", str(other), "--seed", "4"])
    assert not np.array_equal(pixels(other), grid)


def test_a_count_that_is_not_square_is_padded_to_a_square(gan_run, tmp_path):
    out = tmp_path / "ten.png"
    assert main(["generate", str(gan_run), "--count", "10", "--out", str(out)]) == 0
    grid = pixels(out)
    assert grid.shape == (4 * 8 + 3, 4 * 8 + 3)
    assert grid[27:35, 18:26].max() == 0               # cells 11–16 are blank


@pytest.mark.parametrize("args, message", [
    (["--count", "0", "--out", "{tmp}/a.png"], "--count must be between 1 and 4096"),
    (["--out", "{tmp}/a.jpg"], "--out must name a .png file"),
    (["--out", "{tmp}/missing/a.png"], "folder not found for --out"),
    ([], "the following arguments are required: --out"),
])
def test_bad_input_is_one_line_and_exit_code_2(gan_run, tmp_path, capsys, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["generate", str(gan_run), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_classifier_run_or_no_run_is_refused(tmp_path, capsys):
    config = RunConfig(DatasetConfig("digits", {}), ModelConfig("mlp", {"units": 8}),
                       TrainConfig(epochs=1, batch_size=256))
    run_dir = engine.run(config, runs_root=tmp_path).run_dir
    assert main(["generate", str(run_dir), "--out", str(tmp_path / "a.png")]) == 2
    assert "is a mlp run, not a GAN" in capsys.readouterr().err
    assert main(["generate", str(tmp_path / "nothing"), "--out", str(tmp_path / "a.png")]) == 2
    assert "not a run directory" in capsys.readouterr().err


@pytest.mark.parametrize("model_id,says", [("dcgan", "is a GAN"), ("ssgan", "is a GAN"),
                                           ("conv-autoencoder", "is an autoencoder")])
def test_predict_on_a_generative_run_says_what_to_use(tmp_path, capsys, model_id, says):
    from cnnstudio.core.training.rundir import RunDir

    config = RunConfig()
    config.model.id = model_id
    folder = RunDir.create(config, path=tmp_path / "run")
    assert main(["predict", str(folder.path), str(tmp_path / "any.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0]
