"""A sweep at a glance: its trials ranked by the sweep's metric, and the metric plotted
against each swept setting (like TensorBoard's HParams view). Any trial opens like a run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.sweeps.results import trials


def _short(key: str) -> str:
    return key.removeprefix("training.").removeprefix("model.options.").removeprefix(
        "dataset.options.")


def _text(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _status(status: str, reason: str | None, width: int = 60) -> str:
    """"failed: the loss became nan at epoch 1, …": the reason cut to keep the column narrow."""
    if not reason:
        return status
    text = f"{status}: {reason}"
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


class SweepView(QWidget):
    open_requested = Signal(str)

    def __init__(self, root, sweep_id: str, parent=None):
        super().__init__(parent)
        self.root, self.sweep_id = Path(root), sweep_id
        self.setWindowTitle(f"Sweep {sweep_id}")
        self.title = QLabel()
        self.title.setObjectName("heading")
        self.table = QTableWidget()
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.doubleClicked.connect(self._open)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setMinimumHeight(220)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.plots, 1)
        self.resize(900, 620)
        self.refresh()

    def refresh(self) -> None:
        """Read the trials again (the Runs panel calls this when the runs folder changes)."""
        self.rows = trials(self.root, self.sweep_id)
        keys = list(dict.fromkeys(k for r in self.rows for k in r["settings"]))   # sweep order
        metric = self.rows[0]["metric"] if self.rows else "metric"
        mode = self.rows[0]["mode"] if self.rows else "max"
        done = sum(r["status"] == "finished" for r in self.rows)
        self.title.setText(f"Sweep {self.sweep_id}: {len(self.rows)} trials ({done} finished), "
                           f"ranked by {metric} ({'higher' if mode == 'max' else 'lower'} is "
                           "better). Double-click a trial to open it.")
        headers = ["Trial", metric, "Status", *(_short(k) for k in keys)]
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            reason = r.get("reason")
            cells = [f"{r['trial']}", "—" if r["value"] is None else f"{r['value']:.4f}",
                     _status(r["status"], reason),
                     *(_text(r["settings"].get(k, "")) for k in keys)]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                # A failed trial's whole reason on hover; the cell holds its start.
                item.setToolTip(f"{r['run_dir']}\n{reason}" if reason else r["run_dir"])
                self.table.setItem(i, j, item)
        self._plot(keys, metric)

    def _plot(self, keys: list[str], metric: str) -> None:
        self.plots.clear()
        self.scatter = {}
        scored = [r for r in self.rows if r["value"] is not None]
        for col, key in enumerate(keys):
            plot = self.plots.addPlot(row=0, col=col, title=f"{metric} vs {_short(key)}")
            plot.showGrid(x=True, y=True, alpha=0.25)
            for axis in ("bottom", "left"):      # 0.001, not "1 (x0.001)"
                plot.getAxis(axis).enableAutoSIPrefix(False)
            values = [r["settings"].get(key) for r in scored]
            y = np.asarray([r["value"] for r in scored], float)
            if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                x = np.asarray(values, float)
                spread = len(x) and x.min() > 0 and x.max() / x.min() >= 100
                if spread:                       # learning rates: a log axis
                    plot.setLogMode(x=True)
                ticks = None
            else:                                # categories: one tick each
                names = sorted({str(v) for v in values})
                x = np.asarray([names.index(str(v)) for v in values], float)
                ticks = [list(enumerate(names))]
            if ticks:
                plot.getAxis("bottom").setTicks(ticks)
            plot.setLabel("bottom", _short(key))
            plot.setLabel("left", metric)
            self.scatter[key] = plot.plot(x, y, pen=None, symbol="o", symbolSize=9)

    def points(self, key: str) -> tuple[list[float], list[float]]:
        """What the plot of ``key`` shows (x in setting units), for tests."""
        item = self.scatter[key]
        return [float(v) for v in item.xData], [float(v) for v in item.yData]

    def _open(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.open_requested.emit(self.rows[rows[0].row()]["run_dir"])

