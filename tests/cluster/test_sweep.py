"""A grid sweep on a local Ray: each trial a tagged run directory; the best one reported."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.errors import ConfigError
from cnnstudio.core.sweeps import spec


def _base() -> dict:
    return RunConfig(DatasetConfig("digits", {}), ModelConfig("mlp", {"units": 16}),
                     TrainConfig(epochs=1, batch_size=64)).to_dict()


def test_grid_and_random_sweeps_expand_to_checked_trial_configs():
    grid = spec.parse({"base": _base(), "metric": "val_accuracy",
                       "grid": {"training.learning_rate": [0.1, 0.001],
                                "model.options.units": [8, 32]}})
    assert len(grid.trials) == 4 and grid.mode == "max"
    assert grid.trials[1] == {"training.learning_rate": 0.1, "model.options.units": 32}
    config = grid.config(1)
    assert config.training.learning_rate == 0.1 and config.model.options["units"] == 32
    assert config.name == f"sweep-{grid.id}-t02"
    drawn = spec.parse({"base": _base(), "metric": "val_loss", "random": {
        "trials": 5, "seed": 3, "space": {"training.learning_rate": {"min": 1e-4, "max": 1e-1,
                                                                     "log": True}}}})
    rates = [t["training.learning_rate"] for t in drawn.trials]
    assert drawn.mode == "min" and len(set(rates)) == 5 and all(1e-4 <= r <= 1e-1 for r in rates)
    assert rates == [t["training.learning_rate"] for t in spec.parse(
        {"base": _base(), "metric": "val_loss", "random": {"trials": 5, "seed": 3, "space": {
            "training.learning_rate": {"min": 1e-4, "max": 1e-1, "log": True}}}}).trials]
    with pytest.raises(ConfigError, match="sweep trial 2 .*batch_size"):
        spec.parse({"base": _base(), "grid": {"training.batch_size": [8, -1]}})
    with pytest.raises(ConfigError, match='exactly one of "grid" or "random"'):
        spec.parse({"base": _base()})


@pytest.mark.cluster
@pytest.mark.timeout(1200)
@pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                    reason='needs Ray: pip install "cnnstudio[cluster]"')
def test_four_trial_grid_on_a_local_ray_writes_four_runs_and_reports_the_best(tmp_path):
    sweep_file = tmp_path / "sweep.json"
    sweep_file.write_text(json.dumps({
        "base": _base(), "metric": "val_accuracy",
        "grid": {"training.learning_rate": [0.03, 0.00001], "model.options.units": [8, 32]}}))
    root = tmp_path / "runs"
    proc = subprocess.run([sys.executable, "-m", "cnnstudio", "sweep", str(sweep_file),
                           "--runs-root", str(root), "--max-parallel", "2", "--json"],
                          capture_output=True, text=True, timeout=1100)
    assert proc.returncode == 0, proc.stderr[-3000:]
    best = json.loads(proc.stdout.strip().splitlines()[-1])
    runs = sorted(p for p in root.iterdir() if p.is_dir())
    assert len(runs) == 4
    summary = json.loads((root / f"sweep-{spec.load(sweep_file).id}.json").read_text())
    assert summary["finished"] == 4 and [r["run_dir"] for r in summary["results"]][0] == \
        best["run_dir"]
    tags = [json.loads((r / "sweep.json").read_text()) for r in runs]
    assert sorted(t["trial"] for t in tags) == [1, 2, 3, 4]
    assert len({t["sweep"] for t in tags}) == 1
    values = {}
    for run in runs:
        history = [json.loads(line) for line in (run / "metrics.jsonl").open()
                   if '"epoch_end"' in line]
        values[str(run)] = max(h["logs"]["val_accuracy"] for h in history)
        assert json.loads((run / "status.json").read_text())["status"] == "finished"
    assert best["run_dir"] == max(values, key=values.get)
    assert best["value"] == pytest.approx(max(values.values()))
    assert best["metric"] == "val_accuracy"
    assert best["settings"]["training.learning_rate"] == 0.03     # 1e-5 barely moves in 1 epoch
