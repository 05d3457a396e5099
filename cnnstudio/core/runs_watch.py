"""Following runs that other processes write: what changed in a runs folder, with stat calls only.

A cluster job, a sweep trial or a CLI run writes its run directory while the studio
shows it. A viewer keeps one ``RunsSnapshot`` and diffs a new one against it: runs that
appeared or vanished, runs whose status file was replaced, runs whose ``metrics.jsonl``
grew. When nothing changed a scan costs one directory listing and three ``stat`` calls
per run, so polling a network share every few seconds stays cheap; files are read only
when their size or time says they changed. ``MetricsTail`` then reads just the new lines.

No Qt here: the GUI (``cnnstudio/gui/runs_watch.py``) drives it from a file-system
watcher and a polling timer.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WATCHED = ("config.json", "status.json", "metrics.jsonl")


def _stamp(path: Path) -> tuple[int, int] | None:
    """(size, mtime in ns) of a file, or None when it is not there (yet, or any more)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


@dataclass
class RunsChange:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)      # status.json (or config.json) replaced
    grown: list[str] = field(default_factory=list)       # metrics.jsonl longer or rewritten

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.status or self.grown)

    @property
    def listing(self) -> bool:
        """Whether the runs table needs another look (not only a curve)."""
        return bool(self.added or self.removed or self.status)


class RunsSnapshot:
    """The stamps of every run folder's watched files under ``root``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.stamps: dict[str, tuple] = self.scan()

    def scan(self) -> dict[str, tuple]:
        try:
            entries = [e.path for e in os.scandir(self.root) if e.is_dir()]
        except OSError:       # the folder is gone or the share is down: no runs for now
            return {}
        found = {}
        for path in entries:
            stamps = tuple(_stamp(Path(path) / name) for name in WATCHED)
            if stamps[0] is not None:           # a run directory has its config.json
                found[path] = stamps
        return found

    def update(self) -> RunsChange:
        """Scan again and say what changed since the last scan."""
        new, old = self.scan(), self.stamps
        self.stamps = new
        change = RunsChange(added=sorted(set(new) - set(old)),
                            removed=sorted(set(old) - set(new)))
        for path in sorted(set(new) & set(old)):
            (config_a, status_a, metrics_a), (config_b, status_b, metrics_b) = old[path], new[path]
            if config_a != config_b or status_a != status_b:
                change.status.append(path)
            if metrics_a != metrics_b:
                change.grown.append(path)
        change.grown.extend(p for p in change.added if new[p][2] is not None)
        return change


class MetricsTail:
    """The lines appended to a run's ``metrics.jsonl`` since the last read.

    A line still being written (no newline yet) waits for the next read; a file that got
    shorter (rewritten) is read again from its start.
    """

    def __init__(self, run_dir: str | Path, from_end: bool = True):
        self.path = Path(run_dir) / "metrics.jsonl"
        stamp = _stamp(self.path)
        self.offset = stamp[0] if (from_end and stamp) else 0

    def read(self) -> list[dict[str, Any]]:
        stamp = _stamp(self.path)
        if stamp is None:
            return []
        if stamp[0] < self.offset:
            self.offset = 0
        if stamp[0] == self.offset:
            return []
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1            # only whole lines
        self.offset += end
        records = []
        for line in chunk[:end].splitlines():
            try:
                records.append(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
        return records
