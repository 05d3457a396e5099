"""The Multi-task tab: a curve per head, loss-weight sliders that set the next run's options,
and the comparison with single-task runs of the same trunk found in the runs folder.
The run folders are written by hand (no training): the tab reads only files."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui.families.classification.multitask_panel import MultiTaskPanel, comparison_rows
from cnnstudio.gui.registry import PREDICTION_VIEWS, panels_for
from cnnstudio.gui.widgets.options_form import OptionsForm

TASKS = {"shape": ["circle", "square", "triangle", "cross"], "colour": ["r", "g", "b", "y"],
         "count": ["1", "2", "3", "4"]}


def _run(root, name, tasks="all", accuracy=None, params=1000, seconds=10.0, filters=16,
         epochs=2):
    config = RunConfig(dataset=DatasetConfig("scenes-multitask", {"size": 48}),
                       model=ModelConfig("multitask", {"filters": filters, "tasks": tasks}),
                       training=TrainConfig(epochs=epochs))
    run = RunDir.create(config, path=root / name)
    run.write_json("dataset.json", {"input_shape": [48, 48, 3], "tasks": TASKS})
    heads = {t: {"head": f"task{list(TASKS).index(t) + 1}", "accuracy": a}
             for t, a in (accuracy or {}).items()}
    run.write_json("evaluation.json", {**{f"{t}_accuracy": a for t, a in (accuracy or {}).items()},
                                       "params": params, "heads": heads})
    run.write_json("summary.json", {"status": "finished", "seconds": seconds})
    for epoch in range(1, epochs + 1):
        run.record({"event": "epoch_end", "epoch": epoch, "logs": {
            "loss": 3.0 / epoch, "task1_loss": 1.0 / epoch, "val_task1_loss": 1.2 / epoch,
            "task1_accuracy": 0.4 * epoch, "task3_accuracy": 0.3 * epoch,
            "val_task3_accuracy": 0.25 * epoch}})
    run.close()
    return run.path


@pytest.fixture
def runs(tmp_path):
    _run(tmp_path, "a-single-shape", "1", {"shape": 0.97}, params=900, seconds=20)
    _run(tmp_path, "b-single-colour", "2", {"colour": 0.99}, params=900, seconds=21)
    _run(tmp_path, "c-single-count", "3", {"count": 0.90}, params=900, seconds=22)
    _run(tmp_path, "d-other-trunk", "1", {"shape": 0.5}, filters=32)     # not the same trunk
    multi = _run(tmp_path, "e-multi", "all", {"shape": 0.98, "colour": 0.985, "count": 0.93},
                 params=1000, seconds=30, epochs=3)
    return multi


def test_registered_for_the_multitask_task_with_its_prediction_view():
    assert [spec.id for spec in panels_for("multitask")] == ["multitask"]
    assert panels_for("multitask")[0].screenshot == "multitask.png"
    assert "multitask" in PREDICTION_VIEWS
    assert "multitask" not in [spec.id for spec in panels_for("classification")]


def test_comparison_rows_take_the_same_trunks_single_task_runs(runs):
    tasks, rows = comparison_rows(runs)
    assert tasks == ["shape", "colour", "count"]
    assert [r["run"] for r in rows] == ["e-multi", "a-single-shape", "b-single-colour",
                                        "c-single-count", ""]
    assert rows[-1]["params"] == 2700 and rows[-1]["seconds"] == 63
    assert rows[-1]["accuracy"] == {"shape": 0.97, "colour": 0.99, "count": 0.90}


@pytest.mark.slow
def test_the_tab_draws_each_head_and_the_table(qtbot, runs):
    panel = MultiTaskPanel(None)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.updated):
        panel.open_run(runs)
    xs, ys = panel.curves["task1_accuracy"].getData()
    assert list(xs) == [1, 2, 3] and list(ys) == pytest.approx([0.4, 0.8, 1.2])
    assert list(panel.curves["val_task3_accuracy"].getData()[1]) == pytest.approx([0.25, 0.5,
                                                                                    0.75])
    assert panel.curves["task2_loss"].getData()[0] is None or \
        len(panel.curves["task2_loss"].getData()[0]) == 0
    legend = panel.acc_plot.plotItem.legend
    assert legend.getLabel(panel.curves["task3_accuracy"]).text == "count"
    table = panel.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["Model", "shape", "colour", "count", "Parameters", "Time (s)"]
    assert table.rowCount() == 5
    assert [table.item(c, 0).text() for c in range(5)] == [
        "this run: shape + colour + count", "single-task: shape", "single-task: colour",
        "single-task: count", "3 single-task models"]
    # Each task's test accuracy, and in brackets the points above its single-task model.
    assert [table.item(0, c).text() for c in range(1, 6)] == [
        "98.0% (+1.0)", "98.5% (-0.5)", "93.0% (+3.0)", "1,000", "30"]
    assert table.item(2, 1).text() == "—" and table.item(2, 2).text() == "99.0%"
    assert [table.item(4, c).text() for c in (1, 4)] == ["97.0%", "2,700"]
    assert "37% of the parameters of the 3 single-task models" in panel.note.text()
    # A live epoch adds its points to the same curves.
    panel.epoch_done(SimpleNamespace(epoch=4, logs={"task1_accuracy": 0.9}))
    assert list(panel.curves["task1_accuracy"].getData()[0]) == [1, 2, 3, 4]


def test_sliders_set_the_weights_of_the_next_run(qtbot):
    form = OptionsForm()
    form.build(ARCHITECTURES.get("multitask").specs)
    window = SimpleNamespace(
        architecture=SimpleNamespace(model_id="multitask", options=form),
        dataset=SimpleNamespace(dataset_config=lambda: DatasetConfig("mnist-multitask", {})))
    panel = MultiTaskPanel(window)
    qtbot.addWidget(panel)
    form.set_values({"weight_2": 2.5})
    panel.shown()
    assert [s.value() for s in panel.sliders] == [10, 25, 10]
    assert [label.text() for label in panel.slider_labels] == ["task 1 · digit",
                                                               "task 2 · parity",
                                                               "task 3 · high"]
    with qtbot.waitSignal(form.changed):
        panel.sliders[0].setValue(5)
    assert form.values()["weight_1"] == 0.5 and panel.slider_values[0].text() == "0.5"
    assert panel.weights() == {"weight_1": 0.5, "weight_2": 2.5, "weight_3": 1.0}
