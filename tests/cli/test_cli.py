"""The command line: real subprocesses where exit codes matter, in-process for messages."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from cnnstudio.cli import main
from cnnstudio.core.imaging import read_image
from cnnstudio.core.predict import Predictor

TINY = ["--dataset", "digits", "--dataset-option", "size=12", "--model", "mlp",
        "--model-option", "units=64", "--epochs", "2", "--batch-size", "32", "--lr", "0.005"]


def cli(*args, check=True):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, "-m", "cnnstudio", *args], capture_output=True,
                          text=True, env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-runs")
    proc = cli("train", *TINY, "--runs-root", str(root), "--json")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    return root, summary


@pytest.mark.slow
def test_train_prints_a_json_summary_and_writes_the_run(trained):
    root, summary = trained
    assert summary["status"] == "finished" and summary["epochs_done"] == 2
    assert 0.5 < summary["test"]["accuracy"] <= 1.0
    assert summary["samples_per_sec"] > 0
    assert (root / os.path.basename(summary["run_dir"]) / "model.keras").is_file()


@pytest.mark.slow
def test_predict_matches_the_predictor_and_takes_any_photo(trained, tmp_path):
    _, summary = trained
    digit = np.zeros((40, 30, 3), np.uint8)         # a colour image of another size
    cv2.line(digit, (15, 5), (15, 35), (255, 255, 255), 4)
    cv2.imwrite(str(tmp_path / "one.png"), digit)
    proc = cli("predict", summary["run_dir"], str(tmp_path / "one.png"), "--top", "3")
    line = proc.stdout.strip()
    expected = Predictor.from_run(summary["run_dir"]).top_k(read_image(tmp_path / "one.png"), 3)
    assert line == "one.png  " + "  ".join(f"{c} {p:.4f}" for c, p in expected)


def test_runs_lists_the_run_with_status_and_best_metric(trained, capsys):
    root, summary = trained
    assert main(["runs", str(root), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in rows] == [summary["run_dir"]]
    assert rows[0]["status"] == "finished" and rows[0]["epochs"] == "2/2"
    assert "val_accuracy" in rows[0]["best"]


@pytest.mark.slow
def test_datasets_and_models_list_shapes_and_parameters(capsys):
    assert main(["models", "--json"]) == 0
    models = {m["id"]: m for m in json.loads(capsys.readouterr().out)}
    assert models["lenet5"]["params"] == 61706 and models["book-cifar"]["params"] == 1250858
    assert main(["datasets", "--json"]) == 0
    data = {d["id"]: d for d in json.loads(capsys.readouterr().out)}
    assert data["mnist-5k"]["input_shape"] == [28, 28, 1] and data["cifar10"]["download"]


@pytest.mark.parametrize("args, message", [
    (["train", "--dataset", "mnsit"], "unknown dataset 'mnsit'"),
    (["train", "--batch-size", "0"], "batch_size must be a positive integer, got 0"),
    (["train", "--epochs", "abc"], "argument --epochs: invalid int value: 'abc'"),
    (["train", "--dataset", "/no/such/folder"], "unknown dataset '/no/such/folder'"),
    (["train", "--config", "/no/run.json"], "config file not found: /no/run.json"),
    (["predict", "/no/run", "x.png"], "not a run directory (no config.json): /no/run"),
    (["runs", "/no/runs"], "runs folder not found: /no/runs"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["train", "--train-option", "foo=1"], "unknown training setting 'foo' — known: "),
    (["train", "--train-option", "lr_schedule=sine"], "unknown lr_schedule 'sine'"),
])
def test_bad_input_is_one_line_and_exit_code_2(args, message, capsys, runs_root):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cnnstudio: error: ")
    assert message in err
    assert list(runs_root.iterdir()) == []


@pytest.mark.slow
def test_empty_folder_and_bad_images_exit_2_without_traceback(trained, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = cli("train", "--dataset", str(empty), "--epochs", "1", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"cnnstudio: error: no images found in {empty}: expected one sub-folder per class "
        "holding .png/.jpg/.ppm/.bmp/.tif files (e.g. cats/ and dogs/)"]
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "half.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    _, summary = trained
    proc = cli("predict", summary["run_dir"], str(tmp_path / "notes.txt"),
               str(tmp_path / "half.jpg"), check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "cnnstudio: error: cannot read 'notes.txt': not an image, or the file is corrupt",
        "cnnstudio: error: cannot read 'half.jpg': not an image, or the file is corrupt"]


def test_help_lists_every_subcommand_and_the_windows_flags(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for word in ("train", "sweep", "predict", "export", "generate", "detect", "runs",
                 "datasets", "models", "--preset", "--autorun", "--screenshot-dir",
                 "--runs-dir", "--theme"):
        assert word in out
