"""A failed trial in the sweep view says why (issue 23): the start of its reason in the
Status cell, the whole reason on hover."""

from __future__ import annotations

import json

from cnnstudio.core.config import RunConfig
from cnnstudio.gui.panels.sweep_view import SweepView

REASON = ("loss became nan at epoch 1, batch 5: training diverged (a learning rate too high, "
          "or bad numbers in the data); no checkpoint was saved before it")


def _trial(root, trial, lr, status, best=None, reason=None):
    run = root / f"20260101-00000{trial}-digits-mlp-sweep-ab12cd34-t0{trial}"
    run.mkdir()
    (run / "config.json").write_text(RunConfig().to_json())
    (run / "status.json").write_text(json.dumps({"status": status, "pid": 1,
                                                 **({"reason": reason} if reason else {})}))
    (run / "sweep.json").write_text(json.dumps({
        "sweep": "ab12cd34", "trial": trial, "trials": 2, "metric": "val_accuracy",
        "mode": "max", "settings": {"training.learning_rate": lr}}))
    if best is not None:
        (run / "metrics.jsonl").write_text(json.dumps({"event": "epoch_end", "epoch": 1,
                                                       "logs": {"val_accuracy": best}}) + "\n")
    return run


def test_a_failed_trial_shows_its_reason(qtbot, runs_root):
    _trial(runs_root, 1, 0.01, "finished", best=0.8)
    failed = _trial(runs_root, 2, 9.9, "failed", reason=REASON)
    view = SweepView(runs_root, "ab12cd34")
    qtbot.addWidget(view)
    assert [view.table.item(i, 0).text() for i in range(2)] == ["1", "2"]
    assert view.table.item(0, 2).text() == "finished"
    cell = view.table.item(1, 2)
    assert cell.text().startswith("failed: loss became nan at epoch 1, batch 5")
    assert cell.text().endswith("…") and len(cell.text()) <= 60
    assert cell.toolTip() == f"{failed}\n{REASON}"
    assert view.table.item(0, 2).toolTip() == str(runs_root / "20260101-000001-digits-mlp-"
                                                  "sweep-ab12cd34-t01")
    view.close()
