"""The Multi-task tab (book chapter 5): what sharing one trunk between tasks buys.

- one curve per head: its loss and its accuracy, training (solid) and validation (dashed);
- one slider per task: the weight of its loss in the total, written into the model options
  of the next run (the options form shows the same numbers);
- a comparison table: this run beside the single-task runs of the same trunk and dataset
  found in the runs folder (the ``tasks`` option naming one head), each task's test
  accuracy, the parameters and the training time; the single-task models together cost
  the sum of their parameters, the multi-task model one trunk.

The dock's prediction view for the task (``MultiTaskView``) shows every head's answer.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.families.classification.multitask_data import MAX_HEADS, TASKS_OF, head_key
from cnnstudio.core.training.run_siblings import read_config, sibling_runs
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui.widgets.prediction_view import PredictionView

COLOURS = ("#4c9be8", "#e37400", "#2ca02c")
SLIDER_STEPS = 10                 # a slider step is 0.1 of weight
SAME_TRUNK = ("trunk", "filters", "head_units", "dropout")   # options that make "the same trunk"


def evaluation_of(run: RunDir) -> dict:
    return run.read_json("evaluation.json", {}) or {}


def same_setup_runs(run_dir: Path) -> list[RunDir]:
    """The finished multitask runs beside ``run_dir`` (itself first) with its dataset, dataset
    options and trunk options, newest first: the runs its figures can be compared with."""
    mine = read_config(run_dir)
    if mine is None:
        return []
    return [RunDir(run_dir)] + [
        other for other, theirs in sibling_runs(run_dir, config=mine)
        if (other.path / "evaluation.json").is_file()
        and theirs.dataset.options == mine.dataset.options
        and all(theirs.model.options.get(k) == mine.model.options.get(k) for k in SAME_TRUNK)]


def comparison_rows(run_dir: Path) -> tuple[list[str], list[dict]]:
    """(task names, rows): this run, then the newest single-task run of each task, then the
    single-task models together. A row: label, run name, {task: accuracy}, params, seconds."""
    runs = same_setup_runs(run_dir)
    if not runs:
        return [], []
    tasks = list((runs[0].read_json("dataset.json", {}) or {}).get("tasks") or {})
    rows, singles = [], {}
    for n, run in enumerate(runs):
        ev = evaluation_of(run)
        heads = list(ev.get("heads") or {})
        row = {"label": "this run" if n == 0 else "single-task", "run": run.path.name,
               "accuracy": {t: ev["heads"][t]["accuracy"] for t in heads},
               "params": ev.get("params"),
               "seconds": (run.read_json("summary.json", {}) or {}).get("seconds")}
        if n == 0:
            row["label"] = "this run: " + (" + ".join(heads) or "not evaluated yet")
            rows.append(row)
        elif len(heads) == 1:
            row["label"] = f"single-task: {heads[0]}"
        if n and len(heads) == 1 and heads[0] not in singles:
            singles[heads[0]] = row
    ordered = [singles[t] for t in tasks if t in singles]
    rows += ordered
    if len(ordered) > 1:
        known = [r for r in ordered if r["params"] is not None]
        rows.append({"label": f"{len(ordered)} single-task models", "run": "",
                     "accuracy": {t: singles[t]["accuracy"][t] for t in singles},
                     "params": sum(r["params"] for r in known) if known else None,
                     "seconds": sum(r["seconds"] or 0 for r in ordered)})
    return tasks, rows


class MultiTaskPanel(QWidget):
    updated = Signal()            # curves or table redrawn (tests, screenshots)

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.history: dict[str, list[tuple[int, float]]] = {}
        self.tasks: list[str] = []
        self.loss_plot = pg.PlotWidget(title="Loss per head")
        self.acc_plot = pg.PlotWidget(title="Accuracy per head")
        self.curves: dict[str, pg.PlotDataItem] = {}
        # Legends where the curves end up not: top right of falling losses, bottom right
        # of rising accuracies (a negative offset anchors to that side).
        for plot, metric, corner in ((self.loss_plot, "loss", (-10, 10)),
                                     (self.acc_plot, "accuracy", (-10, -30))):
            plot.setLabel("bottom", "epoch (solid: training, dashed: validation)")
            plot.addLegend(offset=corner)
            for i in range(MAX_HEADS):
                key = head_key(i)
                for prefix, style in (("", Qt.SolidLine), ("val_", Qt.DashLine)):
                    self.curves[f"{prefix}{key}_{metric}"] = plot.plot(
                        [], [], pen=pg.mkPen(COLOURS[i], width=2, style=style), symbol="o",
                        symbolSize=4, symbolBrush=COLOURS[i],
                        name=f"task {i + 1}" if not prefix else None)
        self.acc_plot.setYRange(0, 1)
        self.sliders: list[QSlider] = []
        self.slider_labels: list[QLabel] = []
        self.slider_values: list[QLabel] = []
        weights = QGroupBox("Loss weights of the next run")
        weights.setToolTip("The total loss is Σ weight × the head's loss; a weight of 0 "
                           "leaves a head untrained. These set the weight_* options.")
        grid = QGridLayout(weights)
        for i in range(MAX_HEADS):
            label, value = QLabel(f"task {i + 1}"), QLabel("1.0")
            slider = QSlider(Qt.Horizontal)
            slider.setRange(0, 10 * SLIDER_STEPS)
            slider.setValue(SLIDER_STEPS)
            slider.valueChanged.connect(lambda v, i=i: self._weight_changed(i, v))
            grid.addWidget(label, i, 0)
            grid.addWidget(slider, i, 1)
            grid.addWidget(value, i, 2)
            self.sliders.append(slider)
            self.slider_labels.append(label)
            self.slider_values.append(value)
        self.table = QTableWidget(0, 0)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setToolTip("Test accuracy of each task: this run (in brackets: points "
                              "above or below the single-task model) beside single-task runs "
                              "of the same trunk and dataset in the runs folder")
        self.note = QLabel("Train a multi-task model or open a multi-task run.", wordWrap=True)
        self.note.setObjectName("muted")
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.acc_plot)
        lower = QHBoxLayout()
        lower.addWidget(weights, 2)
        lower.addWidget(self.table, 5)
        layout = QVBoxLayout(self)
        layout.addLayout(plots, 3)
        layout.addLayout(lower, 2)
        layout.addWidget(self.note)

    # -- the registry's hooks -------------------------------------------------------------
    def run_started(self, event) -> None:
        self.set_run(event.run_dir)

    def open_run(self, path) -> None:
        self.set_run(path)

    def epoch_done(self, event) -> None:
        self._add(event.epoch, event.logs)
        self._draw()

    def run_finished(self, event) -> None:
        self.show_table()

    def shown(self) -> None:
        self.follow_form()

    # -- a run ----------------------------------------------------------------------------
    def set_run(self, run_dir) -> None:
        self.run_dir = Path(run_dir)
        run = RunDir(self.run_dir)
        self.history = {}
        for record in run.records({"epoch_end"}):
            self._add(int(record["epoch"]), record.get("logs") or {})
        self.set_tasks(list((run.read_json("dataset.json", {}) or {}).get("tasks") or {}))
        self._draw()
        self.show_table()

    def set_tasks(self, tasks: list[str]) -> None:
        """Name the curves and sliders after the dataset's tasks (head 1, 2, 3)."""
        self.tasks = list(tasks)
        for i in range(MAX_HEADS):
            name = self.tasks[i] if i < len(self.tasks) else ""
            self.slider_labels[i].setText(f"task {i + 1}" + (f" · {name}" if name else ""))
            for plot in (self.loss_plot, self.acc_plot):
                item = self.curves[f"{head_key(i)}_{'loss' if plot is self.loss_plot else 'accuracy'}"]
                plot.plotItem.legend.getLabel(item).setText(name or f"task {i + 1}")

    def _add(self, epoch: int, logs: dict) -> None:
        for key, value in logs.items():
            if key in self.curves:
                points = [p for p in self.history.get(key, []) if p[0] != epoch]
                self.history[key] = [*points, (epoch, float(value))]

    def _draw(self) -> None:
        for key, curve in self.curves.items():
            points = sorted(self.history.get(key, []))
            curve.setData([p[0] for p in points], [p[1] for p in points])
        self.updated.emit()

    def show_table(self) -> None:
        tasks, rows = comparison_rows(self.run_dir) if self.run_dir else ([], [])
        headers = ["Model", *tasks, "Parameters", "Time (s)"]
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(rows))
        single = {t: r["accuracy"][t] for r in rows[1:] if r["label"].startswith("single")
                  for t in r["accuracy"]}
        for r, row in enumerate(rows):
            cells = [row["label"]]
            for t in tasks:
                text = f"{row['accuracy'][t]:.1%}" if t in row["accuracy"] else "—"
                if r == 0 and t in row["accuracy"] and t in single:     # points vs alone
                    text += f" ({100 * (row['accuracy'][t] - single[t]):+.1f})"
                cells.append(text)
            cells += [f"{row['params']:,}" if row["params"] is not None else "—",
                      f"{row['seconds']:.0f}" if row["seconds"] is not None else "—"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"run {row['run']}" if row["run"] else "")
                if c:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()
        singles = [r for r in rows[1:] if r["label"].startswith("single-task")]
        if not rows:
            self.note.setText("Train a multi-task model or open a multi-task run.")
        elif not singles:
            self.note.setText("No single-task run of the same trunk and dataset in the runs "
                              "folder yet: set the option tasks to one head (1, 2 or 3) and "
                              "train it to compare.")
        elif len(rows) > 2 and rows[-1]["params"] and rows[0]["params"]:
            self.note.setText(f"One shared trunk: this run has {rows[0]['params'] / rows[-1]['params']:.0%} "
                              f"of the parameters of the {len(singles)} single-task models "
                              "together.")
        else:
            self.note.setText("Train a single-task run for every task to compare the totals.")
        self.updated.emit()

    # -- loss weights ---------------------------------------------------------------------
    def _form(self):
        arch = getattr(self.window, "architecture", None)
        return arch.options if arch is not None and arch.model_id == "multitask" else None

    def follow_form(self) -> None:
        """Sliders and their names from the options form and the picked dataset."""
        form = self._form()
        dataset = getattr(self.window, "dataset", None)
        if dataset is not None and self.run_dir is None:
            self.set_tasks(list(TASKS_OF.get(dataset.dataset_config().id, {})))
        if form is None:
            return
        values = form.values()
        for i, slider in enumerate(self.sliders):
            weight = float(values.get(f"weight_{i + 1}", 1.0))
            slider.blockSignals(True)
            slider.setValue(round(weight * SLIDER_STEPS))
            slider.blockSignals(False)
            self.slider_values[i].setText(f"{weight:.1f}")

    def weights(self) -> dict[str, float]:
        return {f"weight_{i + 1}": s.value() / SLIDER_STEPS for i, s in enumerate(self.sliders)}

    def _weight_changed(self, i: int, value: int) -> None:
        self.slider_values[i].setText(f"{value / SLIDER_STEPS:.1f}")
        form = self._form()
        if form is not None:
            form.set_values({f"weight_{i + 1}": value / SLIDER_STEPS})


class MultiTaskView(PredictionView):
    """The prediction dock for multi-task runs: every head's top 3 for a dropped image."""
    HINT = "Drop an image: each head of the multi-task model answers its own question."

    def __init__(self, window=None, parent=None):
        super().__init__(window, parent)
        self.answer = QLabel("", wordWrap=True)
        self.answer.setTextFormat(Qt.RichText)
        self.body.addWidget(self.answer)

    def predict_image(self, image, name: str) -> None:
        image = self.checked(image, name)
        if image is None:
            return
        bridge = getattr(self.window, "bridge", None)
        if bridge is not None and bridge.running and bridge.run_dir is not None:
            info = RunDir(bridge.run_dir).read_json("dataset.json", {})
            if bridge.submit(lambda model: _predict(model, image, info),
                             lambda future: self._future(future, name)):
                return
        if self.run_dir is None:
            self.show_error("No model yet: train one, or open a run in the Runs panel.")
            return
        run_dir = self.run_dir
        self.window.background.submit(lambda: _predict_from_run(run_dir, image),
                                      lambda rows: self.show_answers(rows, name),
                                      self.show_error, key="predict-multitask")

    def _future(self, future, name) -> None:
        try:
            self.show_answers(future.result(), name)
        except Exception as exc:
            self.show_error(exc)

    def show_answers(self, answers, name: str) -> None:
        self.error.hide()
        lines = [f"<b>{name}</b>"]
        for task, rows in answers:
            best = ", ".join(f"{label} {p:.0%}" for label, p in rows)
            lines.append(f"<b>{task}</b>: {best}")
        self.answer.setText("<br>".join(lines))


def _predict(model, image, info):
    from cnnstudio.core.families.classification.multitask_task import predict_tasks

    return predict_tasks(model, image, info)


def _predict_from_run(run_dir: Path, image):            # background thread
    from cnnstudio.core.predict import load_model_file

    run = RunDir(run_dir)
    path = run.path / "model.keras"
    if not path.is_file():
        last = run.last_checkpoint()
        path = last[1] if last else path
    return _predict(load_model_file(path), image, run.read_json("dataset.json", {}))
