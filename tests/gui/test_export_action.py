"""File → Export…: asks for a format and a folder, exports on the background worker, and
puts the self-test's figures in the status bar."""

from __future__ import annotations

import importlib.util
import json

import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog

from cnnstudio.core.config import RunConfig
from cnnstudio.core.training import engine
from cnnstudio.gui import export_action


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 12}
    config.model.id, config.model.options = "lenet5", {}
    config.training.epochs, config.training.batch_size = 1, 64
    return engine.run(config, runs_root=tmp_path_factory.mktemp("runs")).run_dir


def answer_dialogs(monkeypatch, fmt: str, folder) -> None:
    monkeypatch.setattr(QInputDialog, "getItem",
                        lambda *args, **kwargs: (export_action.LABELS[fmt], True))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda *args, **kwargs: str(folder))


@pytest.mark.slow
def test_export_menu_writes_a_tflite_and_reports_the_self_test(studio, qtbot, lenet_run,
                                                               tmp_path, monkeypatch):
    studio.open_run(lenet_run)
    chosen = tmp_path / "exports"
    chosen.mkdir()
    (chosen / "older.txt").write_text("not empty: the export gets its own folder")
    answer_dialogs(monkeypatch, "tflite", chosen)
    assert studio.export_action.text() == "Export…"
    studio.export_action.trigger()
    qtbot.waitUntil(lambda: studio.message.text().startswith(("Exported", "Export failed")),
                    timeout=120_000)
    target = chosen / f"{lenet_run.name}-tflite"
    text = studio.message.text()
    assert text.startswith(f"Exported tflite to {target / 'model.tflite'} — self-test on 8 "
                           "probe images: max |Δp| "), text
    assert text.endswith("(limit 0.001), top-1 agreement 100%")
    meta = json.loads((target / "metadata.json").read_text(encoding="utf-8"))
    assert meta["source_run"]["path"] == str(lenet_run) and meta["format"] == "tflite"
    assert studio.settings.value("export/format") == "tflite"


def test_an_export_that_cannot_start_says_why_in_the_status_bar(studio, qtbot, tmp_path,
                                                                monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tf2onnx" else real(name, *a))
    answer_dialogs(monkeypatch, "onnx", tmp_path)
    studio.export_action.trigger()
    qtbot.waitUntil(lambda: studio.message.text().startswith("Export failed"), timeout=30_000)
    assert studio.message.text() == ("Export failed: ONNX export needs tf2onnx, not installed "
                                     'here: pip install "cnnstudio[export]"')


def test_an_empty_folder_is_used_as_it_is(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    run = tmp_path / "runs" / "r1"
    assert export_action.target_folder(tmp_path / "empty", run, "onnx") == tmp_path / "empty"
    assert export_action.target_folder(tmp_path / "full", run, "onnx") == \
        tmp_path / "full" / "r1-onnx"
