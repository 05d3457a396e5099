"""``cnnstudio export`` on a disk that fills up (issue 23): the earlier export in the folder
stays exactly as it was, nothing half-written or temporary is left, and the CLI says which
file and why in one line, exit 2."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from cnnstudio.cli import main
from cnnstudio.core.config import RunConfig
from cnnstudio.core.training import engine
from tests.fault_injection import _Filling


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny LeNet-5 run and its TFLite export: the earlier export a failed one must keep."""
    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 12}
    config.model.id, config.model.options = "lenet5", {}
    config.training.epochs, config.training.batch_size = 1, 32
    run = engine.run(config, runs_root=tmp_path_factory.mktemp("runs")).run_dir
    out = tmp_path_factory.mktemp("export") / "tfl"
    assert main(["export", str(run), "--format", "tflite", "--out", str(out)]) == 0
    return run, out


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every entry by name (hidden ones too: a leftover temporary would show here)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def error_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines()
            if line.startswith("cnnstudio:") or "Traceback" in line]


@pytest.mark.slow
def test_a_model_file_cut_short_by_a_full_disk_leaves_the_earlier_export(exported, capsys,
                                                                        monkeypatch):
    import builtins

    from keras.src.export import litert

    run, out = exported
    before = snapshot(out)
    assert sorted(before) == ["labels.txt", "metadata.json", "model.tflite"]
    capsys.readouterr()

    def filling(file, mode="r", *args, **kwargs):    # Keras writes the .tflite with open()
        real = builtins.open(file, mode, *args, **kwargs)
        return _Filling(real, 1000) if "w" in mode else real

    monkeypatch.setattr(litert, "open", filling, raising=False)
    assert main(["export", str(run), "--format", "tflite", "--out", str(out)]) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"cnnstudio: error: cannot write {out / 'model.tflite'}: the "
                               "disk is full (")
    assert lines[0].endswith(" free); free some space and try again")
    assert snapshot(out) == before                   # the earlier export, byte for byte


def test_a_full_disk_at_the_metadata_keeps_the_earlier_model_too(exported, capsys, monkeypatch):
    run, out = exported
    before = snapshot(out)
    capsys.readouterr()
    real = Path.write_text

    def full_at_metadata(self, text, *args, **kwargs):
        if self.name != "metadata.json":
            return real(self, text, *args, **kwargs)
        real(self, text[:len(text) // 2], *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_at_metadata)
    # A new model was written and checked, but no file moves until all three are whole.
    assert main(["export", str(run), "--format", "savedmodel", "--out", str(out)]) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(
        f"cnnstudio: error: cannot write {out / 'metadata.json'}: the disk is full ("), lines
    assert snapshot(out) == before
