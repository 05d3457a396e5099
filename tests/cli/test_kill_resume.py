"""SIGKILL a training process mid-run; resuming continues from the last checkpoint."""

import os
import signal
import subprocess
import sys
import time

import pytest

from cnnstudio.cli import main
from cnnstudio.core.training.rundir import RunDir


@pytest.mark.slow
def test_sigkill_then_resume_continues_from_last_checkpoint(tmp_path, capsys):
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnnstudio", "train", "--dataset", "digits", "--dataset-option",
         "size=12", "--model", "mlp", "--epochs", "40", "--batch-size", "16",
         "--run-dir", str(run_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    folder = RunDir(run_dir)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        found = folder.checkpoints() if (run_dir / "checkpoints").is_dir() else []
        if found and found[-1][0] >= 2:
            break
        time.sleep(0.05)    # polling another process's files, not waiting on our own code
    assert proc.poll() is None, "training ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    assert folder.status() == "crashed"
    assert not (run_dir / "model.keras").exists()
    done = folder.last_checkpoint()[0]
    assert 2 <= done < 40
    assert main(["train", "--resume", str(run_dir), "--json"]) == 0
    resumed = [r for r in folder.records({"run_started"}) if r["resumed"]]
    assert len(resumed) == 1 and resumed[0]["initial_epoch"] == done
    assert [r["epoch"] for r in folder.epoch_history()] == list(range(1, 41))
    assert folder.status() == "finished" and (run_dir / "model.keras").is_file()
    assert '"status": "finished"' in capsys.readouterr().out
