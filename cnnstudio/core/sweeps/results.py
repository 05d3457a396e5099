"""A sweep's trials as the runs folder holds them (read from each trial's ``sweep.json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnstudio.core.training.rundir import RunDir, list_runs

TAG = "sweep.json"


def summary_path(root: str | Path, sweep_id: str) -> Path:
    """The sweep's summary the runner writes beside its trials (a file: no run lists it)."""
    return Path(root) / f"sweep-{sweep_id}.json"


def tag(run: RunDir) -> dict[str, Any] | None:
    found = run.read_json(TAG)
    return found if isinstance(found, dict) and "sweep" in found else None


def trials(root: str | Path, sweep_id: str) -> list[dict[str, Any]]:
    """Every trial of ``sweep_id`` under ``root``, best first by the sweep's own metric;
    trials with no value yet (still starting, or failed) come last, in trial order. A
    failed trial's ``reason`` is its run's (status.json), else None."""
    found = []
    for run in list_runs(root):
        t = tag(run)
        if t is None or t["sweep"] != sweep_id:
            continue
        best = run.best(t.get("metric", "val_accuracy"), t.get("mode", "max"))
        status = run.status()
        reason = run.read_json("status.json", {}).get("reason") if status == "failed" else None
        found.append({"run_dir": str(run.path), "trial": t.get("trial"),
                      "settings": t.get("settings", {}), "metric": t.get("metric"),
                      "mode": t.get("mode", "max"), "value": next(iter(best.values()), None),
                      "status": status, "reason": reason})
    scored = [f for f in found if f["value"] is not None]
    mode = found[0]["mode"] if found else "max"
    scored.sort(key=lambda f: f["value"], reverse=mode == "max")
    waiting = sorted((f for f in found if f["value"] is None), key=lambda f: f["trial"] or 0)
    return scored + waiting
