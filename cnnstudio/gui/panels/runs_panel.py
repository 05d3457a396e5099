"""Runs panel: every run under the runs folder, with status, data, model and best metric."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core import evaluation
from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.profile import arch_profile
from cnnstudio.core.sweeps.results import tag as sweep_tag
from cnnstudio.core.training.rundir import RunDir, list_runs
from cnnstudio.gui.runs_watch import RunsWatcher

HEADERS = ["Run", "Status", "Dataset", "Model", "Epochs", "Best", "Test"]
STATUS_TIPS = {
    "finished": "Trained all its epochs; the final model is saved.",
    "stopped": "Stopped by you; Resume continues from the last complete epoch.",
    "crashed": "Its process ended while training; Resume continues from the last checkpoint.",
    "failed": "Training raised an error; Resume retries from the last checkpoint.",
    "running": "Training now.",
}
RESUMABLE = {"stopped", "crashed", "failed"}


def _evaluation_summary(path) -> tuple[str, str]:
    """The run's evaluation.json in a few characters, and its per-class table as tooltip
    (the Confusion tab shows the same numbers with the images)."""
    try:
        result = evaluation.load(path)
    except (OSError, ValueError):
        result = None
    if not result:
        return "—", "No test evaluation yet: it is written when a run finishes."
    if "macro_f1" not in result:      # a family's own evaluation (autoencoder, GAN, …)
        numbers = {k: v for k, v in result.items() if isinstance(v, int | float)}
        text = " · ".join(_metric_text(k, v) for k, v in list(numbers.items())[:2])
        return text or "—", html.escape(", ".join(_metric_text(k, v)
                                                  for k, v in numbers.items()))
    return (f"{result['accuracy']:.1%} · F1 {result['macro_f1']:.2f}",
            f"<pre>{html.escape(evaluation.format_report(result))}</pre>Open the run and see the Confusion "
            "tab for the matrix and its images.")


def _metric_text(key: str, value: float) -> str:
    shown = f"{value:.1%}" if "accuracy" in key else f"{value:.4g}"
    return f"{key.replace('_', ' ')} {shown}"


def group_sweeps(runs: list[RunDir]) -> list[RunDir]:
    """A sweep's trials together, where its newest trial stands, best first by its metric."""
    tags = {str(r.path): sweep_tag(r) for r in runs}
    groups: dict[str, list[RunDir]] = {}
    for run in runs:
        t = tags[str(run.path)]
        if t:
            groups.setdefault(t["sweep"], []).append(run)
    out, placed = [], set()
    for run in runs:
        t = tags[str(run.path)]
        if not t:
            out.append(run)
        elif t["sweep"] not in placed:
            placed.add(t["sweep"])
            members = groups[t["sweep"]]
            metric, mode = t.get("metric", "val_accuracy"), t.get("mode", "max")
            sign = -1 if mode == "max" else 1

            def rank(r, metric=metric, mode=mode, sign=sign):
                value = next(iter(r.best(metric, mode).values()), None)
                return (value is None, sign * (value or 0.0))

            out.extend(sorted(members, key=rank))
    return out


def _best(run: RunDir, model_id: str) -> str:
    """The run's best epoch by its task's own measure, saying which (a GAN has no accuracy:
    "lowest G loss 1.331", not a bare "g loss")."""
    try:
        profile = arch_profile(model_id)
    except StudioError:
        return ", ".join(_metric_text(k, v) for k, v in run.best().items())
    best = run.best(profile.best_metric, profile.best_mode)
    labels = {s.key: s.label for plot in profile.plots for s in plot.series}
    texts = []
    for key, value in best.items():
        text = _metric_text(key, value)
        base = key.removeprefix("val_")
        if base in labels and labels[base] != base:      # the curve's own name: "G loss"
            text = text.replace(base.replace("_", " "), labels[base], 1)
        texts.append(("lowest " if profile.best_mode == "min" else "") + text)
    return ", ".join(texts)


class RunsPanel(QWidget):
    open_requested = Signal(str)
    resume_requested = Signal(str)
    compare_requested = Signal(str)
    message = Signal(str)

    def __init__(self, root: Path, parent=None):
        super().__init__(parent)
        self.root = Path(root)
        # Replaced in tests: asks before deleting a run from disk.
        self.confirm_delete = self._ask_delete
        self.folder = QLabel()
        self.folder.setObjectName("muted")
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setSelectionMode(QTableWidget.SingleSelection)
        self.table.setSortingEnabled(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.doubleClicked.connect(lambda _: self._emit(self.open_requested))
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.buttons = {}
        row = QHBoxLayout()
        for key, text, tip in (
                ("open", "Open", "Show this run's curves and predict with its model."),
                ("compare", "Compare", "Overlay this run's curves on the plots."),
                ("resume", "Resume", "Continue a stopped or crashed run from its last "
                                     "checkpoint."),
                ("sweep", "Sweep…", "This trial's sweep: every trial ranked by the sweep's "
                                    "metric, and the metric against each swept setting."),
                ("reveal", "Show folder", "Open the run's folder in the file manager."),
                ("delete", "Delete", "Delete this run's folder from disk."),
                ("refresh", "Refresh", "Read the runs folder again.")):
            button = QPushButton(text)
            button.setToolTip(tip)
            self.buttons[key] = button
            row.addWidget(button)
        row.addStretch(1)
        self.buttons["open"].clicked.connect(lambda: self._emit(self.open_requested))
        self.buttons["compare"].clicked.connect(lambda: self._emit(self.compare_requested))
        self.buttons["resume"].clicked.connect(lambda: self._emit(self.resume_requested))
        self.buttons["reveal"].clicked.connect(self._reveal)
        self.buttons["sweep"].clicked.connect(self.show_sweep)
        self.sweep_views: dict[str, QWidget] = {}
        self.buttons["delete"].clicked.connect(self._delete)
        self.buttons["refresh"].clicked.connect(self.refresh)
        layout = QVBoxLayout(self)
        layout.addWidget(self.folder)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        self.refresh()
        # Runs other processes write (a cluster job, a sweep, the CLI) show up by themselves.
        self.watcher = RunsWatcher(self.root, self)
        self.watcher.changed.connect(lambda _change: self.refresh())
        self.watcher.grown.connect(self._sweep_grew)

    def showEvent(self, event):
        super().showEvent(event)
        self.watcher.start()

    def hideEvent(self, event):
        self.watcher.stop()       # nothing to follow while nobody looks
        super().hideEvent(event)

    def refresh(self) -> None:
        selected = self.selected()
        self.folder.setText(f"Runs folder: {self.root}")
        runs = group_sweeps(list(reversed(list_runs(self.root))))      # newest first
        self.tags = {str(r.path): sweep_tag(r) for r in runs}
        self.paths = [str(r.path) for r in runs]
        self.table.setRowCount(len(runs))
        for i, run in enumerate(runs):
            self._fill_row(i, run)
        if selected in self.paths:
            self.table.selectRow(self.paths.index(selected))
        self._update_buttons()
        for view in self.sweep_views.values():
            if view.isVisible():
                view.refresh()

    def _fill_row(self, i: int, run: RunDir) -> None:
        status = run.status()
        try:
            config = run.config()
            dataset, model, epochs = config.dataset.id, config.model.id, config.training.epochs
        except StudioError:
            dataset = model = "?"
            epochs = 0
        done = run.read_json("status.json", {}).get("epoch", 0)
        best_text = _best(run, model)
        test_text, test_tip = _evaluation_summary(run.path)
        cells = [run.path.name, status, dataset, model, f"{done}/{epochs}", best_text or "—",
                 test_text]
        for j, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if j == 6:
                item.setToolTip(test_tip)
            if j == 1:
                item.setToolTip(STATUS_TIPS.get(status, status))
                colour = {"finished": "#188038", "crashed": "#c5221f", "failed": "#c5221f",
                          "stopped": "#b06000"}.get(status)
                if colour:
                    item.setForeground(QColor(colour))
            if j == 0:
                t = self.tags.get(str(run.path))
                item.setToolTip(str(run.path) + (f"\nTrial {t.get('trial')} of {t.get('trials')} "
                                                 f"in sweep {t['sweep']}: {t.get('settings')}"
                                                 if t else ""))
            item.setTextAlignment(Qt.AlignVCenter | (Qt.AlignRight if j == 4 else Qt.AlignLeft))
            self.table.setItem(i, j, item)

    def selected(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or not hasattr(self, "paths"):
            return None
        return self.paths[rows[0].row()]

    def select(self, path) -> None:
        path = str(path)
        if path in self.paths:
            self.table.selectRow(self.paths.index(path))

    def status_of(self, path) -> str:
        return self.table.item(self.paths.index(str(path)), 1).text()

    def _update_buttons(self) -> None:
        path = self.selected()
        status = self.status_of(path) if path else ""
        for key in ("open", "compare", "reveal"):     # a running run opens live (followed)
            self.buttons[key].setEnabled(path is not None)
        self.buttons["delete"].setEnabled(path is not None and status != "running")
        self.buttons["resume"].setEnabled(status in RESUMABLE)
        self.buttons["sweep"].setEnabled(bool(path and self.tags.get(path)))

    def _emit(self, signal) -> None:
        path = self.selected()
        if path:
            signal.emit(path)

    def show_sweep(self):
        """The selected trial's sweep in its own window (one per sweep, kept up to date)."""
        from cnnstudio.gui.panels.sweep_view import SweepView

        t = self.tags.get(self.selected() or "")
        if not t:
            return None
        view = self.sweep_views.get(t["sweep"])
        if view is None:
            view = SweepView(self.root, t["sweep"], parent=self)
            view.setWindowFlag(Qt.Window)       # its own window, closed with the studio
            view.open_requested.connect(self.open_requested)
            self.sweep_views[t["sweep"]] = view
        view.refresh()
        view.show()
        view.raise_()
        return view

    def _sweep_grew(self, path: str) -> None:
        t = self.tags.get(path) if hasattr(self, "tags") else None
        view = self.sweep_views.get(t["sweep"]) if t else None
        if view is not None and view.isVisible():
            view.refresh()

    def _reveal(self) -> None:
        path = self.selected()
        if path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def _ask_delete(self, path: str) -> bool:
        answer = QMessageBox.question(self, "Delete run",
                                      f"Delete the run folder {Path(path).name} and everything "
                                      "in it (model, checkpoints, logs)?")
        return answer == QMessageBox.Yes

    def _delete(self) -> None:
        path = self.selected()
        if path and self.confirm_delete(path):
            shutil.rmtree(path, ignore_errors=True)
            self.message.emit(f"Deleted run {Path(path).name}")
            self.refresh()
