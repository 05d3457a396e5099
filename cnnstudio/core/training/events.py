"""Typed events a run emits to any callable sink (CLI progress bar, GUI bridge, run directory).

Plain dataclasses, so a sink can pattern-match on the type and ``to_record``
gives the JSON line stored in ``metrics.jsonl``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Event:
    def to_record(self) -> dict[str, Any]:
        # A shallow copy: dataclasses.asdict deep-copies every field, and a BatchEnd record is
        # made after every training batch (it was most of the engine's per-batch cost).
        record = {"event": type(self).kind, "time": round(time.time(), 3)}
        record.update(vars(self))
        return record


@dataclass
class Progress(Event):
    """Long work before training: a download, loading a folder, caching features."""
    kind = "progress"
    stage: str
    done: float
    total: float | None
    message: str = ""


@dataclass
class Notice(Event):
    """Something the user should see but that does not stop the run (skipped files, CPU only)."""
    kind = "notice"
    message: str
    level: str = "warning"


@dataclass
class DeviceReport(Event):
    kind = "devices"
    backend: str
    using: str
    gpus: list[str] = field(default_factory=list)
    mixed_precision: bool = False


@dataclass
class RunStarted(Event):
    kind = "run_started"
    run_dir: str
    dataset: str
    model: str
    params: int
    num_train: int
    num_val: int
    num_test: int
    epochs: int
    initial_epoch: int
    steps_per_epoch: int
    batch_size: int
    resumed: bool = False
    steps_per_call: int = 1             # training steps per call into the graph
    steps_per_call_note: str = ""       # how many and why (steps_per_call.describe)


@dataclass
class BatchEnd(Event):
    kind = "batch_end"
    epoch: int          # 1-based
    step: int           # 1-based within the epoch
    steps: int
    logs: dict[str, float]
    samples_per_sec: float


@dataclass
class EpochEnd(Event):
    kind = "epoch_end"
    epoch: int          # 1-based
    epochs: int
    logs: dict[str, float]
    seconds: float
    samples_per_sec: float


@dataclass
class ProbeReady(Event):
    """A view of the model computed on the run's thread (feature maps, filters, samples…)."""
    kind = "probe"
    name: str
    epoch: int
    path: str = ""
    payload: Any = None

    def to_record(self) -> dict[str, Any]:
        record = super().to_record()
        record.pop("payload")   # arrays live in probes/*.npz, not in the JSON log
        return record


@dataclass
class RunFinished(Event):
    kind = "run_finished"
    status: str                 # "finished" | "stopped"
    run_dir: str
    epochs_done: int
    seconds: float
    samples_per_sec: float
    test: dict[str, float] = field(default_factory=dict)
    best: dict[str, float] = field(default_factory=dict)


@dataclass
class RunFailed(Event):
    kind = "run_failed"
    reason: str
    run_dir: str = ""
    details: str = ""
