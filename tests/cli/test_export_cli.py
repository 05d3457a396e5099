"""``cnnstudio export RUN_DIR --format F --out DIR [--json]``: exit 0 with the self-test's
figures, 1 when the export disagrees with Keras (nothing kept), 2 for bad input."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from cnnstudio.cli import main
from cnnstudio.core import export
from cnnstudio.core.config import RunConfig
from cnnstudio.core.training import engine

HAS_ONNX = all(importlib.util.find_spec(m) for m in ("tf2onnx", "onnx", "onnxruntime"))


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 12}
    config.model.id, config.model.options = "lenet5", {}
    config.training.epochs, config.training.batch_size = 2, 32
    return engine.run(config, runs_root=tmp_path_factory.mktemp("runs")).run_dir


@pytest.mark.slow
def test_json_prints_the_self_test_figures_and_nothing_else(lenet_run, tmp_path):
    """A real process, so TensorFlow's and the converter's chatter must stay off stdout."""
    fmt = "onnx" if HAS_ONNX else "tflite"
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "cnnstudio", "export", str(lenet_run),
                           "--format", fmt, "--out", str(out), "--json"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)         # the whole of stdout is one JSON object
    assert set(figures) == {"format", "max_abs_diff", "top1_agreement", "path"}
    assert figures["format"] == fmt and figures["top1_agreement"] == 1.0
    assert 0 <= figures["max_abs_diff"] <= export.TOLERANCE[fmt]
    assert figures["path"] == str(out / f"model.{fmt}")
    assert {p.name for p in out.iterdir()} == {"labels.txt", "metadata.json", f"model.{fmt}"}


def test_plain_output_is_one_line_with_the_figures(lenet_run, tmp_path, capsys):
    assert main(["export", str(lenet_run), "--format", "tflite", "--out",
                 str(tmp_path / "t")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"Exported tflite to {tmp_path / 't' / 'model.tflite'}: max |Δp| ")
    assert "(limit 0.001), top-1 agreement 100% on 8 probe images" in out
    assert "Self-test: reloading model.tflite in its own runtime…" in err


def test_a_disagreeing_export_exits_1_with_its_figures(lenet_run, tmp_path, capsys,
                                                       monkeypatch):
    real = export.run_export
    monkeypatch.setattr(export, "run_export",
                        lambda f, p, x: (lambda r: (r[0] + 1e-3 + 1e-4, r[1]))(real(f, p, x)))
    assert main(["export", str(lenet_run), "--format", "savedmodel", "--out",
                 str(tmp_path / "s"), "--json"]) == 1
    out, err = capsys.readouterr()
    figures = json.loads(out)
    assert figures["path"] is None and figures["max_abs_diff"] > 1e-3
    assert err.startswith("cnnstudio: export failed its self-test: the savedmodel export "
                          "disagrees with the Keras model on 8 probe images: max |Δp| 0.0011 "
                          "(limit 0.0001)")
    assert list((tmp_path / "s").iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--format", "coreml"], "unknown export format 'coreml' — choose one of savedmodel, "
                             "tflite, onnx"),
    (["--format", "tflite"], "has no trained model to export (no model.keras and no "
                             "checkpoint)"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    from cnnstudio.core.training.rundir import RunDir

    folder = RunDir.create(RunConfig(), tmp_path / "runs")
    assert main(["export", str(folder.path), *args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cnnstudio: error: ") and message in err


def test_format_and_out_are_required(capsys):
    assert main(["export", "somewhere"]) == 2
    assert "the following arguments are required: --format, --out" in capsys.readouterr().err
