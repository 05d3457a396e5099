"""One run over two local processes (Keras DataParallel on JAX, gloo collectives on the CPU)."""

from __future__ import annotations

import importlib.util
import json
import time

import pytest

from tests.cluster.helpers import cnnstudio, last_json

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(1500),     # minutes on 2 busy cores
              pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                                 reason='needs JAX: pip install "cnnstudio[cluster]"')]


def _pair(port, root, *train_args):
    return [cnnstudio("train", *train_args, "--runs-root", root, "--json",
                      "--cluster", f"127.0.0.1:{port}", "--processes", 2, "--process-id", i)
            for i in (0, 1)]


def test_two_processes_train_lenet5_into_one_run_with_identical_weights(tmp_path, free_port):
    root = tmp_path / "runs"
    procs = _pair(free_port, root, "--dataset", "mnist-5k", "--model", "lenet5",
                  "--epochs", 2, "--batch-size", 32, "--lr", 0.002)
    outs = [p.communicate(timeout=900) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    chief, peer = (last_json(out) for out, _ in outs)
    runs = list(root.iterdir())
    assert len(runs) == 1 and chief["run_dir"] == str(runs[0]) and peer["run_dir"] is None
    run = runs[0]
    for name in ("config.json", "metrics.jsonl", "model.keras", "summary.json",
                 "checkpoints/epoch-0002.keras"):
        assert (run / name).is_file(), name
    summary = json.loads((run / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["epochs_done"] == 2
    assert chief["weights_sha256"] == peer["weights_sha256"]       # the same model everywhere
    assert summary["test"]["accuracy"] >= 0.9
    started = [json.loads(line) for line in (run / "metrics.jsonl").open()
               if '"run_started"' in line][0]
    assert started["batch_size"] == 64                           # 2 replicas × 32


def test_a_killed_process_stops_the_other_with_a_message_and_the_run_resumes(tmp_path,
                                                                             free_port):
    root = tmp_path / "runs"
    procs = _pair(free_port, root, "--dataset", "digits", "--model", "mlp",
                  "--model-option", "units=32", "--epochs", 40, "--batch-size", 16)
    deadline = time.monotonic() + 600
    while not list(root.glob("*/checkpoints/epoch-0001.keras")):
        assert time.monotonic() < deadline and procs[0].poll() is None, procs[0].stderr.read()
        time.sleep(0.5)
    procs[1].kill()                                   # a machine of the cluster goes away
    killed = time.monotonic()
    out, err = procs[0].communicate(timeout=300)
    took = time.monotonic() - killed
    assert "another process of the cluster is gone" in err and "--resume" in err, err[-2000:]
    assert procs[0].returncode != 0 and took < 60
    procs[1].communicate()
    run = next(root.iterdir())
    status = json.loads((run / "status.json").read_text())["status"]
    assert status in ("failed", "running")            # running: its process is gone → crashed
    resumed = cnnstudio("train", "--resume", run, "--epochs", 3, "--json")
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err[-3000:]
    summary = last_json(out)
    assert summary["status"] == "finished" and summary["epochs_done"] == 3
