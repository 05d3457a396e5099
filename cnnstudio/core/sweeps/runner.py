"""Runs a sweep's trials on Ray: a local Ray by default, a cluster by address.

Each trial is one Ray task that runs the studio's engine on the trial's RunConfig and
writes a normal run directory into the runs folder (which, on a cluster, is shared
storage every node sees). At most ``max_parallel`` trials run at once. A trial's run
directory is tagged with ``sweep.json`` as soon as it exists, so the Runs panel groups
trials while they still train. The sweep's summary, every trial with its status, value
and (failed) reason, is ``sweep-<id>.json`` in the runs folder, rewritten as trials end.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from cnnstudio.core import atomic
from cnnstudio.core.atomic import WriteFailed
from cnnstudio.core.errors import StudioError
from cnnstudio.core.sweeps.results import TAG, summary_path
from cnnstudio.core.sweeps.spec import Sweep
from cnnstudio.core.training.rundir import finite

EXTRA = 'pip install "cnnstudio[cluster]"'
PRELOAD = "cnnstudio.core.training.engine"


def require_ray():
    try:
        import ray
    except ImportError:
        raise StudioError(f"sweeps run on Ray: {EXTRA}") from None
    return ray


def run_trial(sweep: Sweep, index: int, runs_root: str) -> dict[str, Any]:
    """One trial, in whatever process runs it (a Ray worker, or this one).

    A trial that fails says why in ``reason`` (the engine's one line: a NaN loss, a full
    disk, out of memory), as does one the engine refused to start (no run folder then)."""
    from cnnstudio.core.training import engine
    from cnnstudio.core.training.events import RunStarted
    from cnnstudio.core.training.rundir import RunDir

    tag = {"sweep": sweep.id, "trial": index + 1, "trials": len(sweep.trials),
           "settings": sweep.trials[index], "metric": sweep.metric, "mode": sweep.mode}

    def sink(event):
        if isinstance(event, RunStarted) and not event.resumed:
            RunDir(event.run_dir).write_json(TAG, tag)

    try:
        result = engine.run(sweep.config(index), runs_root=runs_root, sink=sink)
    except Exception as exc:        # refused before training: the other trials still run
        return failed(sweep, index, exc)
    row = {"trial": index + 1, "status": result.status, "run_dir": str(result.run_dir),
           "settings": sweep.trials[index], "value": _metric(result, sweep.metric, sweep.mode)}
    if result.status == "failed":
        row["reason"] = result.summary.get("reason") or "failed (no reason recorded)"
    return row


def failed(sweep: Sweep, index: int, exc: BaseException) -> dict[str, Any]:
    """The row of trial ``index`` that raised ``exc`` (or whose Ray task died with it)."""
    return {"trial": index + 1, "status": "failed", "run_dir": None,
            "settings": sweep.trials[index], "value": None, "reason": failure_reason(exc)}


def failure_reason(exc: BaseException) -> str:
    """One line: a StudioError's message as it is, else the error's type and first line.
    Ray wraps a task's exception in a RayTaskError whose text is its own header and a
    traceback; the exception the trial raised is its ``cause``."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        exc = cause
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    if not isinstance(exc, StudioError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text[:300]


def _metric(result, metric: str, mode: str) -> float | None:
    """The trial's best epoch value of the metric (its training twin if never validated)."""
    from cnnstudio.core.training.rundir import RunDir

    best = RunDir(result.run_dir).best(metric, mode)
    return next(iter(best.values()), None)


def run(sweep: Sweep, runs_root, *, max_parallel: int | None = None,
        address: str | None = None, progress=None) -> dict[str, Any]:
    """Run every trial; returns the sweep's summary with the best trial first-class."""
    ray = require_ray()
    runs_root = str(Path(runs_root).expanduser().resolve())
    Path(runs_root).mkdir(parents=True, exist_ok=True)
    if max_parallel is not None and max_parallel < 1:
        raise StudioError(f"--max-parallel must be at least 1, got {max_parallel}")
    started_here = not ray.is_initialized()
    if started_here:
        _init(ray, address, max_parallel)
    t0 = time.perf_counter()
    try:
        limit = max_parallel or max(1, int(ray.available_resources().get("CPU", 1)))
        task = ray.remote(num_cpus=1)(run_trial)
        sweep_ref = ray.put(sweep)
        pending, results, next_index = [], [], 0
        index_of = {}                      # each task's trial, for a task that dies
        while next_index < len(sweep.trials) or pending:
            while next_index < len(sweep.trials) and len(pending) < limit:
                ref = task.remote(sweep_ref, next_index, runs_root)
                index_of[ref] = next_index
                pending.append(ref)
                next_index += 1
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                results.append(_get(ray, ref, sweep, index_of[ref]))
                # Rewritten after each trial: a sweep stopped half-way keeps what it found.
                # A failed write here is retried by the next one; the last one says so.
                with contextlib.suppress(WriteFailed):
                    write_summary(runs_root, summarize(sweep, results,
                                                       time.perf_counter() - t0))
                if progress:
                    progress(results[-1])
    finally:
        if started_here:
            ray.shutdown()
    summary = summarize(sweep, results, time.perf_counter() - t0)
    summary["summary_file"] = str(write_summary(runs_root, summary))
    return summary


def _init(ray, address, max_parallel, tries: int = 2) -> None:
    # A local Ray's workers inherit this process's environment, so the variables are set
    # here; a runtime_env would start Ray's runtime-env agent and a worker pool of its own
    # for the first trial (seconds on two cores). A cluster's workers need the runtime_env.
    env = _worker_env()
    if address:
        options = {"runtime_env": {"env_vars": env}}
    else:
        os.environ.update(env)
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        # Ray's raylet starts one worker a CPU as it starts, and each imports the engine
        # (TensorFlow: seconds) while Ray's own services still start, instead of after.
        # Set as RAY_* variables, not _system_config: a Ray that lacks a key ignores a
        # variable, while its GCS refuses an unknown _system_config key and never starts.
        os.environ.setdefault("RAY_enable_worker_prestart", "1")
        os.environ.setdefault("RAY_preload_python_modules", PRELOAD)
        options = {"num_cpus": max_parallel or os.cpu_count()}
    for attempt in range(tries):
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     configure_logging=False, **options)
            return
        except Exception as exc:      # no cluster at that address, a port in use
            # A busy machine can miss Ray's fixed 30 s start-up window; once more, then say so.
            if "timed out during startup" in str(exc) and attempt + 1 < tries:
                ray.shutdown()
                continue
            raise StudioError(f"could not start Ray{' at ' + address if address else ''}: "
                              f"{exc}") from None


def _get(ray, ref, sweep: Sweep, index: int) -> dict[str, Any]:
    try:
        return ray.get(ref)
    except Exception as exc:        # a trial's process died: the others still count
        return failed(sweep, index, exc)


def _worker_env() -> dict[str, str]:
    """What trials need from this process's environment (backend, runs and Keras folders)."""
    keep = ("KERAS_BACKEND", "KERAS_HOME", "CNNSTUDIO_RUNS", "TF_CPP_MIN_LOG_LEVEL")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def summarize(sweep: Sweep, results: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    scored = [r for r in results if r.get("value") is not None]
    pick = max if sweep.mode == "max" else min
    best = pick(scored, key=lambda r: r["value"]) if scored else None
    ordered = sorted(scored, key=lambda r: r["value"], reverse=sweep.mode == "max")
    return {"sweep": sweep.id, "metric": sweep.metric, "mode": sweep.mode,
            "trials": len(sweep.trials), "finished": sum(r["status"] == "finished"
                                                         for r in results),
            "failed": sum(r["status"] == "failed" for r in results),
            "seconds": round(seconds, 2),
            "best": None if best is None else {"run_dir": best["run_dir"], "trial": best["trial"],
                                               "metric": sweep.metric, "value": best["value"],
                                               "settings": best["settings"]},
            "results": ordered + sorted((r for r in results if r.get("value") is None),
                                        key=lambda r: r["trial"])}


def write_summary(runs_root, summary: dict[str, Any]) -> Path:
    """``sweep-<id>.json`` in the runs folder: every trial's status, value and (for a
    failed one) reason. Written atomically: a reader never sees half of it."""
    path = summary_path(runs_root, summary["sweep"])
    atomic.write_json(path, finite(summary), indent=1, default=float)
    return path
