"""Faults injected into tiny runs: a read-only runs folder, a full disk while a checkpoint is
written, two writers on one runs folder, a GPU out of memory. Each ends in one clear line,
keeps the last good checkpoint and resumes to the end once the fault is gone."""

import errno
import json
import subprocess
import sys
import threading

import pytest

from cnnstudio import cli
from cnnstudio.core.config import RunConfig
from cnnstudio.core.errors import StudioError
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.training import engine, failures, rundir
from cnnstudio.core.training.events import RunFailed
from cnnstudio.core.training.rundir import RunDir
from tests.fault_injection import OutOfMemoryAt, install_full_disk, read_only


def tiny(epochs=2, batch_size=64):
    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 12}
    config.model.id, config.model.options = "mlp", {"units": 16}
    config.training.epochs, config.training.batch_size, config.training.seed = epochs, batch_size, 3
    config.training.steps_per_call = 1      # faults are injected at a given batch
    return config


def tiny_args(runs_root, epochs=1):
    return ["train", "--dataset", "digits", "--dataset-option", "size=12", "--model", "mlp",
            "--model-option", "units=16", "--epochs", str(epochs), "--runs-root", str(runs_root)]


def files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def error_lines(capsys):
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


# -- a read-only runs folder -----------------------------------------------------

@pytest.mark.parametrize("sub", ["", "new/runs"])
def test_a_read_only_runs_folder_stops_a_new_run_before_anything_happens(runs_root, sub):
    target = runs_root / sub if sub else runs_root
    events = []
    with read_only(runs_root):
        with pytest.raises(StudioError) as caught:
            engine.run(tiny(), runs_root=target, sink=events.append)
    message = str(caught.value)
    assert message == (f"cannot write to the runs folder {target}: it is read-only; make it "
                       "writable, or set another one (CNNSTUDIO_RUNS)")
    assert events == []                 # not even the dataset's "loading" line
    assert list(runs_root.iterdir()) == []


def test_the_cli_says_so_in_one_line_with_exit_2(runs_root, capsys):
    with read_only(runs_root):
        assert cli.main(tiny_args(runs_root)) == 2
    lines = error_lines(capsys)
    assert lines == [f"cnnstudio: error: cannot write to the runs folder {runs_root}: it is "
                     "read-only; make it writable, or set another one (CNNSTUDIO_RUNS)"]


@pytest.mark.slow
def test_a_run_whose_folder_became_read_only_is_not_resumed_and_not_touched(runs_root, capsys):
    done = engine.run(tiny(epochs=1), runs_root=runs_root)
    assert done.status == "finished"
    before = files(done.run_dir)
    with read_only(done.run_dir):
        with pytest.raises(StudioError, match=r"^cannot write to the run folder .*: it is "
                                              r"read-only; make it writable$"):
            engine.resume(done.run_dir, epochs=2)
        assert cli.main(["train", "--resume", str(done.run_dir), "--epochs", "2"]) == 2
        lines = error_lines(capsys)
        assert len(lines) == 1 and "read-only" in lines[0], lines
    assert files(done.run_dir) == before          # not a byte changed, no lock file left
    again = engine.resume(done.run_dir, epochs=2)  # writable again: it trains on
    assert again.status == "finished" and again.summary["epochs_done"] == 2


def test_ensure_writable_names_a_file_that_is_not_a_folder(tmp_path):
    (tmp_path / "runs").write_text("not a folder")
    with pytest.raises(StudioError, match="is not a folder"):
        failures.ensure_writable(tmp_path / "runs" / "sub")
    assert failures.ensure_writable(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()          # the check leaves nothing behind


# -- a full disk while a checkpoint is written ---------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("epochs", [2, 3])   # the fault found at close() / at the next epoch
def test_a_full_disk_keeps_the_last_good_checkpoint_and_resumes(runs_root, monkeypatch, epochs):
    disk = install_full_disk(monkeypatch, runs_root, good=1)
    events = []
    result = engine.run(tiny(epochs=epochs), runs_root=runs_root, sink=events.append)
    assert result.status == "failed" and disk.failed >= 1
    folder = RunDir.open(result.run_dir)
    checkpoints = folder.path / "checkpoints"
    reason = result.summary["reason"]
    assert reason.startswith(f"disk full while writing to {checkpoints} (")
    assert " free); free some space, then the run is kept: resume it from its last " \
           "checkpoint (epoch 1)" in reason
    assert "\n" not in reason and "Traceback" not in reason
    failed = [e for e in events if isinstance(e, RunFailed)]
    assert [e.reason for e in failed] == [reason]
    assert folder.read_json("status.json")["reason"] == reason and folder.status() == "failed"
    # No half file: the failed write was removed, the good one is whole and loads.
    assert sorted(p.name for p in checkpoints.iterdir()) == ["epoch-0001.keras",
                                                             "epoch-0001.rng.npz"]
    model = load_model_file(checkpoints / "epoch-0001.keras")
    assert int(model.optimizer.iterations.numpy()) == folder.records({"run_started"})[0][
        "steps_per_epoch"]

    disk.free()                                   # space returns
    again = engine.resume(result.run_dir)
    assert again.status == "finished" and again.summary["epochs_done"] == epochs
    assert [h["epoch"] for h in folder.epoch_history()] == list(range(1, epochs + 1))
    assert (folder.path / "model.keras").is_file()


@pytest.mark.slow
def test_the_cli_reports_a_full_disk_in_one_line_and_resumes(runs_root, monkeypatch, capsys):
    disk = install_full_disk(monkeypatch, runs_root, good=1)
    assert cli.main(tiny_args(runs_root, epochs=2)) == 1
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if line.startswith("cnnstudio: run failed:")]
    assert len(failed) == 1 and "disk full while writing to" in failed[0], err
    assert "Traceback" not in err
    disk.free()
    (run_dir,) = list(runs_root.iterdir())
    assert cli.main(["train", "--resume", str(run_dir)]) == 0
    assert RunDir.open(run_dir).status() == "finished"


# -- two writers on one runs folder ------------------------------------------------

def test_runs_created_in_the_same_second_get_their_own_folders(runs_root, monkeypatch):
    monkeypatch.setattr(rundir.time, "strftime", lambda fmt: "20260101-120000")
    made, start = [], threading.Barrier(6)

    def create(i):
        config = tiny()
        config.training.seed = i                  # same name, a different config each
        start.wait()
        made.append((i, RunDir.create(config, root=runs_root)))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = sorted(folder.path.name for _, folder in made)
    base = "20260101-120000-digits-mlp"
    assert names == sorted([base] + [f"{base}-{n}" for n in range(2, 7)])
    for i, folder in made:                        # each wrote its own config, none clobbered
        assert folder.config().training.seed == i


@pytest.mark.slow
def test_a_run_trained_elsewhere_is_never_resumed(runs_root):
    done = engine.run(tiny(epochs=1), runs_root=runs_root)
    folder = RunDir.open(done.run_dir)
    other = RunDir.open(done.run_dir)
    other.claim()                       # another window of this process is training it now
    try:
        with pytest.raises(StudioError, match="is being trained by another window or process"):
            engine.resume(done.run_dir, epochs=2)
    finally:
        other.close()
    assert folder.status() == "finished"

    # Another process says it is training the run, and that process is alive.
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        status = {"status": "running", "pid": proc.pid, "epoch": 1}
        (folder.path / "status.json").write_text(json.dumps(status))
        with pytest.raises(StudioError, match=f"still being trained \\(process {proc.pid},"):
            engine.resume(done.run_dir, epochs=2)
        assert json.loads((folder.path / "status.json").read_text()) == status
    finally:
        proc.kill()
        proc.wait()
    assert folder.status() == "crashed"           # its process is gone: resumable
    assert engine.resume(done.run_dir, epochs=2).status == "finished"


# -- GPU out of memory ---------------------------------------------------------------

@pytest.mark.slow
def test_out_of_memory_fails_with_advice_and_stays_resumable(runs_root):
    pytest.importorskip("tensorflow")
    events = []
    control = OutOfMemoryAt(epoch=2, batch=2, then=events.append)
    result = engine.run(tiny(epochs=3), runs_root=runs_root, sink=control.sink, control=control)
    assert result.status == "failed"
    reason = result.summary["reason"]
    assert reason == ("out of memory on the device (ResourceExhaustedError): try a smaller "
                      "batch size (e.g. 32 instead of 64), or mixed precision (it halves "
                      "activation memory on the GPU), or smaller images or a smaller model; "
                      "the run is kept: resume it from its last checkpoint (epoch 1)")
    assert [e.reason for e in events if isinstance(e, RunFailed)] == [reason]
    folder = RunDir.open(result.run_dir)
    assert folder.read_json("status.json")["reason"] == reason
    assert [n for n, _ in folder.checkpoints()] == [1]
    again = engine.resume(result.run_dir)         # no fault this time
    assert again.status == "finished" and again.summary["epochs_done"] == 3


class OutOfMemoryError(RuntimeError):             # PyTorch's name, recognised without torch
    pass


@pytest.mark.parametrize("exc, batch, mixed, expected", [
    (OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), 8, True,
     "out of memory on the device (OutOfMemoryError): try a smaller batch size (e.g. 4 "
     "instead of 8), or smaller images or a smaller model; the run is kept: resume it from "
     "its last checkpoint (epoch 3)"),
    (RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate"), 1, False,
     "out of memory on the device (RuntimeError): try mixed precision (it halves activation "
     "memory on the GPU), or smaller images or a smaller model; the run is kept: resume it "
     "from its last checkpoint (epoch 3)"),
    (OSError(errno.EROFS, "Read-only file system", "/r/checkpoints/x.keras"), 8, False,
     "cannot write to /r/checkpoints: the folder became read-only; make it writable, then the "
     "run is kept: resume it from its last checkpoint (epoch 3)"),
    (StudioError("dataset: bad\nsecond line"), 8, False, "dataset: bad"),
    (ValueError("shapes (1, 2) and (3,) differ\nmore"), 8, False,
     "ValueError: shapes (1, 2) and (3,) differ"),
])
def test_explain_turns_faults_into_advice(exc, batch, mixed, expected):
    assert failures.explain(exc, "/r", batch, mixed, last_epoch=3) == expected


def test_explain_names_the_free_space_of_a_full_disk(tmp_path):
    exc = OSError(errno.ENOSPC, "No space left on device")
    text = failures.explain(exc, tmp_path, 32, False, last_epoch=0)
    assert text.startswith(f"disk full while writing to {tmp_path} (")
    assert text.endswith(" free); free some space, then the run is kept: resume it to start "
                         "again")
