"""The run directory: the contract between the trainer and every viewer.

    config.json          the RunConfig, exactly as run
    dataset.json         class names, input shape and counts (what ``predict`` needs)
    model.json           the layer table and parameter count
    metrics.jsonl        one JSON line per event that matters (append-only)
    status.json          running / finished / stopped / failed (+ pid while running)
    .lock                locked (flock) by the process training the run
    checkpoints/epoch-NNNN.keras   written atomically after each epoch (model + optimizer)
    checkpoints/epoch-NNNN.rng.npz its random streams' states (written first; see epoch_order)
    model.keras          the final model
    summary.json         the final figures
    tensorboard/         TensorBoard logs (TensorFlow backend)
    probes/              per-epoch probe arrays (insight panels)

Every file is written to a temporary name and renamed, so a kill at any moment
leaves the last good version of each.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from cnnstudio.core.atomic import write_text as write_atomic
from cnnstudio.core.config import RunConfig
from cnnstudio.core.errors import StudioError

CHECKPOINT = re.compile(r"^epoch-(\d{4,})\.keras$")
EPOCH_RECORDS = {"batch_end", "epoch_end", "probe"}     # what belongs to one epoch


def default_runs_root() -> Path:
    return Path(os.environ.get("CNNSTUDIO_RUNS", Path.home() / "cnnstudio-runs")).expanduser()


def _lock_file(f) -> None:
    try:
        import fcntl
    except ImportError:                  # Windows
        import msvcrt

        msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._metrics = None
        self._lock = None

    # -- creation ---------------------------------------------------------
    @classmethod
    def create(cls, config: RunConfig, root: str | Path | None = None,
               path: str | Path | None = None) -> RunDir:
        if path is None:
            root = Path(root) if root else default_runs_root()
            root.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            base = f"{stamp}-{config.dataset.id}-{config.model.id}"
            if config.name:
                base += "-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", config.name)[:40]
            path, n = root / base, 1
            while True:     # mkdir is atomic: two windows starting in one second get base, base-2
                try:
                    path.mkdir()
                    break
                except FileExistsError:
                    n += 1
                    path = root / f"{base}-{n}"
        path = Path(path)
        if path.exists() and any(path.iterdir()):
            raise StudioError(f"run directory {path} already exists and is not empty")
        path.mkdir(parents=True, exist_ok=True)
        run = cls(path)
        (path / "checkpoints").mkdir(exist_ok=True)
        write_atomic(path / "config.json", config.to_json())
        return run

    @classmethod
    def write_finished(cls, config: RunConfig, root, model, files: dict, summary: dict,
                       **status) -> Path:
        """A new, finished run folder holding ``model`` made elsewhere (a cut copy, an
        import): ``files`` (name → JSON data), model.keras, summary.json (``summary`` over
        status "finished"), status.json (``status`` extra keys). A step that fails (a full
        disk) removes the folder: no half run is ever listed."""
        folder = cls.create(config, root=root)
        try:
            for name, data in files.items():
                if data is not None:
                    folder.write_json(name, data)
            folder.save_model(model)
            folder.write_json("summary.json", {"status": "finished", "test": {}, "best": {},
                                               "run_dir": str(folder.path), **summary})
            folder.set_status("finished", **status)
        except BaseException:
            folder.close()
            shutil.rmtree(folder.path, ignore_errors=True)
            raise
        return folder.path

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        path = Path(path).expanduser()
        if not (path / "config.json").is_file():
            raise StudioError(f"not a run directory (no config.json): {path}")
        return cls(path)

    # -- reading ----------------------------------------------------------
    def config(self) -> RunConfig:
        return RunConfig.load(self.path / "config.json")

    def read_json(self, name: str, default: Any = None) -> Any:
        try:
            return json.loads((self.path / name).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return default

    def write_json(self, name: str, data: Any) -> None:
        write_atomic(self.path / name, json.dumps(finite(data), indent=2, default=float))

    def records(self, kinds: set[str] | None = None) -> list[dict[str, Any]]:
        """The metrics log; a line cut short by a kill is ignored."""
        out = []
        try:
            with open(self.path / "metrics.jsonl", encoding="utf-8") as f:
                for line in f:
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if kinds is None or record.get("event") in kinds:
                        out.append(record)
        except FileNotFoundError:
            pass
        return out

    def epoch_history(self) -> list[dict[str, Any]]:
        """The latest record of each epoch (a resumed run may have repeated one)."""
        by_epoch = {r["epoch"]: r for r in self.records({"epoch_end"})}
        return [by_epoch[e] for e in sorted(by_epoch)]

    def status(self) -> str:
        """running, finished, stopped, failed, or crashed (said running, but its process is gone)."""
        state = self.read_json("status.json", {})
        status = state.get("status", "created")
        if status == "running" and not _pid_alive(int(state.get("pid", -1))):
            return "crashed"
        return status

    def checkpoints(self) -> list[tuple[int, Path]]:
        found = []
        for p in (self.path / "checkpoints").glob("epoch-*.keras"):
            m = CHECKPOINT.match(p.name)
            if m:
                found.append((int(m.group(1)), p))
        return sorted(found)

    def last_checkpoint(self) -> tuple[int, Path] | None:
        found = self.checkpoints()
        return found[-1] if found else None

    def model_path(self) -> Path | None:
        """The final model, or else the newest checkpoint (a stopped or crashed run)."""
        final = self.path / "model.keras"
        if final.is_file():
            return final
        last = self.last_checkpoint()
        return last[1] if last else None

    def trained_model_path(self) -> Path:
        """``model_path``, or a StudioError saying the run has no trained model yet."""
        path = self.model_path()
        if path is None:
            raise StudioError(f"run {self.path.name} has no trained model yet")
        return path

    def best(self, metric: str = "val_accuracy", mode: str = "max") -> dict[str, float]:
        """The best epoch value of ``metric`` (its training twin when never validated)."""
        history = self.epoch_history()
        pick = max if mode == "max" else min
        for name in (metric, metric.removeprefix("val_")):
            values = [h["logs"][name] for h in history if name in h.get("logs", {})]
            if values:
                return {name: pick(values)}
        return {}

    # -- writing ----------------------------------------------------------
    def set_status(self, status: str, **extra) -> None:
        self.write_json("status.json", {"status": status, "pid": os.getpid(),
                                        "time": time.time(), **extra})

    def record(self, record: dict[str, Any]) -> None:
        if self._metrics is None:
            self._metrics = open(self.path / "metrics.jsonl", "a", encoding="utf-8")
        self._metrics.write(json.dumps(finite(record), default=float) + "\n")
        if record.get("event") != "batch_end":    # batches are flushed with their epoch
            self._metrics.flush()

    def forget_after(self, epoch: int) -> int:
        """Drop the batch, epoch and probe records of epochs after ``epoch`` (an epoch cut
        short by a stop or a kill, which a resume trains again), so that no curve or export
        counts it twice. The rest of the log (notices, the stop) stays. Returns how many."""
        path = self.path / "metrics.jsonl"
        try:
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        except FileNotFoundError:
            return 0
        kept = []
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue                         # a line cut short by a kill
            if record.get("event") in EPOCH_RECORDS and int(record.get("epoch", 0)) > epoch:
                continue
            kept.append(line if line.endswith("\n") else line + "\n")
        if len(kept) < len(lines):
            write_atomic(path, "".join(kept))
        return len(lines) - len(kept)

    def claim(self) -> None:
        """Hold the run's lock while it trains: no second window or process can resume it.

        The OS drops the lock when the process dies, so a crash leaves no stale lock.
        """
        lock = open(self.path / ".lock", "a+b")
        try:
            _lock_file(lock)
        except OSError:
            lock.close()
            raise StudioError(f"run {self.path.name} is being trained by another window or "
                              "process") from None
        self._lock = lock

    def close(self) -> None:
        try:
            if self._metrics is not None:
                self._metrics.close()
        except OSError:     # a full disk: the last lines are lost, the run's files are not
            pass
        finally:
            self._metrics = None
            if self._lock is not None:
                self._lock.close()
                self._lock = None

    def checkpoint_path(self, epoch: int) -> Path:
        return self.path / "checkpoints" / f"epoch-{epoch:04d}.keras"

    def save_checkpoint(self, model, epoch: int, keep: int = 2) -> Path:
        """Save model + optimizer for ``epoch`` (1-based) atomically; keep the newest ``keep``."""
        final = self.checkpoint_path(epoch)
        folder = final.parent
        temp = folder / f".epoch-{epoch:04d}.tmp.keras"   # Keras insists on the suffix
        try:
            model.save(temp)
            os.replace(temp, final)
        except BaseException as exc:   # a full disk: no half file; the last good one stays
            temp.unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc.filename is None:
                exc.filename = str(temp)      # a failed write() names no file: say which
            raise
        for _, old in self.checkpoints()[:-keep]:
            old.unlink(missing_ok=True)
            old.with_name(old.name.removesuffix(".keras") + ".rng.npz").unlink(missing_ok=True)
        return final

    def save_model(self, model) -> Path:
        final = self.path / "model.keras"
        temp = self.path / ".model.tmp.keras"
        try:
            model.save(temp)
            os.replace(temp, final)
        except BaseException:          # a full disk: no half file left beside the run
            temp.unlink(missing_ok=True)
            raise
        return final


def list_runs(root: str | Path | None = None) -> list[RunDir]:
    root = Path(root) if root else default_runs_root()
    if not root.is_dir():
        return []
    runs = [RunDir(p) for p in root.iterdir() if (p / "config.json").is_file()]
    return sorted(runs, key=lambda r: r.path.name)


def finite(data: Any) -> Any:
    """``data`` with NaN and infinite numbers as None: run files stay valid JSON (Python's
    json writes NaN, which no JSON reader accepts)."""
    if isinstance(data, dict):
        return {k: finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [finite(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if hasattr(data, "dtype") and getattr(data, "ndim", 1) == 0:     # numpy scalars
        value = data.item()
        return None if isinstance(value, float) and not math.isfinite(value) else value
    return data
