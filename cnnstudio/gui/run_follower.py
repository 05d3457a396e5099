"""Keeps the curves of an opened run growing while another process writes it.

The window opens a run from the Runs panel; if that run is being trained elsewhere (a
cluster job, a sweep trial, ``cnnstudio train`` in a terminal), its ``metrics.jsonl``
keeps growing. The follower reads only the new lines (``MetricsTail``) whenever the
``RunsWatcher`` says the file grew, and feeds them to the plots like the live bridge does.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from cnnstudio.core.runs_watch import MetricsTail
from cnnstudio.core.training.rundir import RunDir


class RunFollower(QObject):
    status_changed = Signal(str, str)        # run path, its new status

    def __init__(self, watcher, plots, parent=None):
        super().__init__(parent)
        self.plots = plots
        self.path: str | None = None
        self.tail: MetricsTail | None = None
        self.last_status = ""
        watcher.grown.connect(self._grown)
        watcher.changed.connect(self._changed)

    def follow(self, path) -> None:
        """Follow from the end of what the plots have already loaded."""
        self.path = str(Path(path))
        self.tail = MetricsTail(self.path, from_end=True)
        self.last_status = RunDir(self.path).status()

    def stop(self) -> None:
        self.path, self.tail = None, None

    def _grown(self, path: str) -> None:
        if self.tail is None or str(Path(path)) != self.path:
            return
        batches = []
        for record in self.tail.read():
            kind = record.get("event")
            if kind == "run_started":       # a resumed run starts again: its batching
                self.plots.set_batching(record.get("batch_size", 0), record.get("num_train", 0))
            elif kind == "batch_end":
                batches.append(record)
            elif kind == "epoch_end":
                self._add_batches(batches)
                batches = []
                self.plots.add_epoch(record["epoch"], record.get("logs", {}))
        self._add_batches(batches)

    def _add_batches(self, records) -> None:
        if records:
            self.plots.add_batch_records(records)

    def _changed(self, change) -> None:
        if self.path is None or self.path not in change.status:
            return
        status = RunDir(self.path).status()
        if status != self.last_status:
            self.last_status = status
            self.status_changed.emit(self.path, status)
