"""The Runs panel groups a sweep's trials, ranks them by the metric, and plots metric vs settings."""

from __future__ import annotations

import json

import pytest

from cnnstudio.core.config import RunConfig
from cnnstudio.gui.panels.runs_panel import RunsPanel

# (trial, learning rate, units, best val_accuracy)
TRIALS = [(1, 0.1, 8, 0.50), (2, 0.1, 32, 0.90), (3, 0.001, 8, 0.30), (4, 0.001, 32, 0.70)]


def _trial(root, sweep, trial, lr, units, best):
    run = root / f"20260101-00000{trial}-digits-mlp-sweep-{sweep}-t0{trial}"
    run.mkdir()
    (run / "config.json").write_text(RunConfig().to_json())
    (run / "status.json").write_text('{"status": "finished", "pid": 1}')
    (run / "sweep.json").write_text(json.dumps({
        "sweep": sweep, "trial": trial, "trials": 4, "metric": "val_accuracy", "mode": "max",
        "settings": {"training.learning_rate": lr, "model.options.units": units}}))
    with open(run / "metrics.jsonl", "w") as f:
        for epoch, value in ((1, best / 2), (2, best)):
            f.write(json.dumps({"event": "epoch_end", "epoch": epoch,
                                "logs": {"val_accuracy": value}}) + "\n")
    return run


@pytest.mark.slow
def test_sweep_trials_are_grouped_ranked_and_plotted_against_each_setting(qtbot, runs_root):
    lone = runs_root / "20260102-000000-digits-mlp"          # newer, not in the sweep
    lone.mkdir()
    (lone / "config.json").write_text(RunConfig().to_json())
    runs = {t: _trial(runs_root, "ab12cd34", t, lr, u, v) for t, lr, u, v in TRIALS}
    panel = RunsPanel(runs_root)
    qtbot.addWidget(panel)
    # Newest first; the sweep's four trials together, best val_accuracy first.
    assert panel.paths == [str(lone)] + [str(runs[t]) for t in (2, 4, 1, 3)]
    panel.select(lone)
    assert not panel.buttons["sweep"].isEnabled()
    panel.select(runs[3])
    assert panel.buttons["sweep"].isEnabled()
    view = panel.show_sweep()
    assert [view.table.item(i, 0).text() for i in range(4)] == ["2", "4", "1", "3"]
    assert view.table.item(0, 1).text() == "0.9000"
    assert [view.table.horizontalHeaderItem(j).text() for j in range(5)] == \
        ["Trial", "val_accuracy", "Status", "learning_rate", "units"]
    x, y = view.points("training.learning_rate")      # in rank order: trials 2, 4, 1, 3
    assert x == pytest.approx([0.1, 0.001, 0.1, 0.001]) and y == pytest.approx([.9, .7, .5, .3])
    x, y = view.points("model.options.units")
    assert x == [32, 32, 8, 8] and y == pytest.approx([.9, .7, .5, .3])
    view.grab().save("/tmp/c11_sweep_view.png")
    with qtbot.waitSignal(panel.open_requested) as blocker:
        view.table.selectRow(0)
        view._open()
    assert blocker.args == [str(runs[2])]                   # a trial opens like any run
    view.close()
