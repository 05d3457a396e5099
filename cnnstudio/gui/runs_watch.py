"""Watches a runs folder that other processes write into, for the Runs panel and the curves.

``QFileSystemWatcher`` reacts at once where the operating system reports changes (a local
disk); a polling timer catches what it cannot see (network shares, NFS, SMB, where no
change events come). Both only trigger a scan (``RunsSnapshot``: stat calls, no reads), so
watching costs nothing while nothing changes. Watching runs only while the panel shows.

The poll interval is ``CNNSTUDIO_RUNS_POLL_S`` seconds (default 2; at least 0.2).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from cnnstudio.core.runs_watch import RunsChange, RunsSnapshot

DEFAULT_POLL_S = 2.0
SETTLE_MS = 150        # a burst of file events (a checkpoint, a status write) → one scan


def poll_seconds() -> float:
    try:
        value = float(os.environ.get("CNNSTUDIO_RUNS_POLL_S", DEFAULT_POLL_S))
    except ValueError:
        value = DEFAULT_POLL_S
    return max(0.2, value)


class RunsWatcher(QObject):
    changed = Signal(object)            # RunsChange: the runs table needs another look
    grown = Signal(str)                 # a run's metrics.jsonl has new lines

    def __init__(self, root, parent=None, poll_s: float | None = None):
        super().__init__(parent)
        self.root = Path(root)
        self.snapshot: RunsSnapshot | None = None
        self.fs = QFileSystemWatcher(self)
        self.fs.directoryChanged.connect(self._soon)
        self.fs.fileChanged.connect(self._soon)
        self.poll = QTimer(self)
        self.poll.setInterval(int(1000 * (poll_s or poll_seconds())))
        self.poll.timeout.connect(self.check)
        self.settle = QTimer(self)
        self.settle.setSingleShot(True)
        self.settle.setInterval(SETTLE_MS)
        self.settle.timeout.connect(self.check)

    def start(self) -> None:
        if self.poll.isActive():
            return
        self.snapshot = RunsSnapshot(self.root)
        self._watch_paths()
        self.poll.start()

    def stop(self) -> None:
        self.poll.stop()
        self.settle.stop()
        paths = self.fs.files() + self.fs.directories()
        if paths:
            self.fs.removePaths(paths)

    @property
    def active(self) -> bool:
        return self.poll.isActive()

    def _soon(self, _path: str = "") -> None:
        if self.poll.isActive():
            self.settle.start()

    def check(self) -> RunsChange:
        """Scan now; emit what changed. Public so a Refresh button or a test can force it."""
        if self.snapshot is None:
            self.snapshot = RunsSnapshot(self.root)
            return RunsChange()
        change = self.snapshot.update()
        if change:
            self._watch_paths()     # new runs, and metrics files that appeared
        if change.listing:
            self.changed.emit(change)
        for path in change.grown:
            self.grown.emit(path)
        return change

    def _watch_paths(self) -> None:
        """The root (runs appear), each run folder (status.json is replaced by a rename) and
        each metrics file (appends change no folder)."""
        wanted = [str(self.root)] if self.root.is_dir() else []
        for run in self.snapshot.stamps if self.snapshot else ():
            wanted.append(run)
            metrics = os.path.join(run, "metrics.jsonl")
            if os.path.exists(metrics):
                wanted.append(metrics)
        have = set(self.fs.files() + self.fs.directories())
        stale = [p for p in have if p not in wanted]
        if stale:
            self.fs.removePaths(stale)
        new = [p for p in wanted if p not in have]
        if new:
            self.fs.addPaths(new)
