"""Two studio windows on one runs folder, and a runs folder that cannot be written."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from cnnstudio.core.training import rundir
from cnnstudio.core.training.rundir import RunDir
from tests.fault_injection import read_only
from tests.gui.conftest import configure, tiny_config

STAMP = "20260101-120000"


@pytest.fixture
def second(qtbot, tmp_path, runs_root):
    """Another studio window on the same runs folder (its own settings)."""
    from cnnstudio.gui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings-2.ini"), QSettings.IniFormat)
    window = MainWindow(runs_root=runs_root, settings=settings)
    window.confirm_close = lambda: True
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.tf_ready, timeout=90_000)
    yield window
    window.close()


@pytest.fixture
def same_second(monkeypatch):
    """Every run folder is named as if both runs started in the same second."""
    real = time.strftime
    monkeypatch.setattr(rundir.time, "strftime",
                        lambda fmt, *args: STAMP if fmt == "%Y%m%d-%H%M%S" and not args
                        else real(fmt, *args))


def _ready(window) -> bool:
    """What conftest.configure waits for: the dataset loaded, the layer table built."""
    return bool(window.background.idle and window.dataset.dataset is not None
                and (window.architecture.problem is None or window.architecture.problem_is_error))


def _run_files_are_one_run(folder: RunDir, epochs: int) -> None:
    assert len(folder.records({"run_started"})) == 1
    assert [r["epoch"] for r in folder.records({"epoch_end"})] == list(range(1, epochs + 1))
    assert [n for n, _ in folder.checkpoints()] == [epochs - 1, epochs]
    assert folder.status() == "finished"


@pytest.mark.slow
def test_two_windows_training_at_once_write_only_their_own_runs(qtbot, studio, second,
                                                               runs_root, same_second):
    for window in (studio, second):          # both at once: two windows load in parallel
        window.set_run_config(tiny_config(epochs=2))
    qtbot.waitUntil(lambda: all(_ready(w) for w in (studio, second)), timeout=120_000)
    ends = []
    for window in (studio, second):
        window.bridge.finished.connect(ends.append)
    studio.start_training()
    second.start_training()
    qtbot.waitUntil(lambda: bool(studio.bridge.run_dir and second.bridge.run_dir),
                    timeout=60_000)
    assert studio.bridge.running and second.bridge.running        # at the same time
    qtbot.waitUntil(lambda: len(ends) == 2, timeout=120_000)
    assert [e.status for e in ends] == ["finished", "finished"]
    finished = {e.run_dir for e in ends}
    base = f"{STAMP}-digits-mlp"
    assert sorted(p.name for p in runs_root.iterdir()) == [base, f"{base}-2"]
    assert finished == {str(runs_root / base), str(runs_root / f"{base}-2")}
    assert studio.bridge.run_dir != second.bridge.run_dir
    for path in runs_root.iterdir():
        _run_files_are_one_run(RunDir(path), epochs=2)
    qtbot.waitUntil(lambda: not studio.bridge.running and not second.bridge.running)


@pytest.mark.slow
def test_a_window_never_resumes_a_run_another_window_is_training(qtbot, studio, second):
    configure(qtbot, studio, tiny_config(epochs=3))
    studio.epoch_hooks = [lambda model, epoch: epoch == 1 and studio.bridge.control.pause()]
    batches = []
    studio.bridge.batches.connect(batches.extend)
    studio.start_training()
    qtbot.waitUntil(lambda: any(b.epoch == 2 for b in batches), timeout=60_000)
    run_dir = studio.bridge.run_dir
    assert RunDir(run_dir).status() == "running"

    with qtbot.waitSignal(second.bridge.failed, timeout=60_000) as refused:
        second.resume_run(str(run_dir))
    reason = refused.args[0]
    assert reason.startswith(f"run {run_dir.name} is still being trained (process ")
    assert second.message.text() == "Training failed: " + reason
    assert second.training.detail.text() == reason
    qtbot.waitUntil(lambda: not second.bridge.running, timeout=30_000)

    with qtbot.waitSignal(studio.bridge.finished, timeout=60_000) as done:
        studio.bridge.resume_paused()
    assert done.args[0].status == "finished" and done.args[0].epochs_done == 3
    _run_files_are_one_run(RunDir(run_dir), epochs=3)     # nothing from the other window
    qtbot.waitUntil(lambda: not studio.bridge.running, timeout=30_000)


@pytest.mark.slow
def test_a_read_only_runs_folder_is_said_once_and_the_studio_goes_on(qtbot, studio, runs_root):
    configure(qtbot, studio, tiny_config(epochs=1))
    with read_only(runs_root):
        with qtbot.waitSignal(studio.bridge.failed, timeout=60_000) as failed:
            qtbot.mouseClick(studio.training.start, Qt.LeftButton)
        reason = failed.args[0]
        assert reason == (f"cannot write to the runs folder {runs_root}: it is read-only; make "
                          "it writable, or set another one (CNNSTUDIO_RUNS)")
        assert studio.message.text() == "Training failed: " + reason
        assert studio.training.detail.text() == reason
        qtbot.waitUntil(lambda: studio.training.start.isEnabled(), timeout=30_000)
        assert list(runs_root.iterdir()) == []

    # Writable again: a run trains; then its own folder turns read-only and cannot be resumed.
    with qtbot.waitSignal(studio.bridge.finished, timeout=60_000) as done:
        qtbot.mouseClick(studio.training.start, Qt.LeftButton)
    run_dir = done.args[0].run_dir
    qtbot.waitUntil(lambda: studio.training.start.isEnabled(), timeout=30_000)
    with read_only(Path(run_dir)):
        with qtbot.waitSignal(studio.bridge.failed, timeout=60_000) as refused:
            studio.resume_run(run_dir)
        assert refused.args[0].startswith(f"cannot write to the run folder {run_dir}: it is "
                                          "read-only")
        assert studio.message.text() == "Training failed: " + refused.args[0]
        qtbot.waitUntil(lambda: not studio.bridge.running, timeout=30_000)
    assert studio.isVisible()
