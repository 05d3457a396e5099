"""Runs written by another process: what a stat-only scan sees, and the metrics lines a tail reads."""

from __future__ import annotations

import json

from cnnstudio.core.config import RunConfig
from cnnstudio.core.runs_watch import MetricsTail, RunsSnapshot


def _run(root, name):
    folder = root / name
    folder.mkdir()
    (folder / "config.json").write_text(RunConfig().to_json())
    return folder


def test_snapshot_sees_new_runs_status_changes_and_growing_metrics(tmp_path):
    snapshot = RunsSnapshot(tmp_path)
    assert not snapshot.update()                       # nothing there, nothing changed
    a = _run(tmp_path, "a")
    (tmp_path / "not-a-run").mkdir()                    # no config.json: ignored
    change = snapshot.update()
    assert change.added == [str(a)] and not change.grown and change.listing
    (a / "status.json").write_text('{"status": "running"}')
    change = snapshot.update()
    assert change.status == [str(a)] and not change.added
    (a / "metrics.jsonl").write_text('{"event": "epoch_end"}\n')
    change = snapshot.update()
    assert change.grown == [str(a)] and not change.listing
    assert not snapshot.update()                       # unchanged: no event
    import shutil

    shutil.rmtree(a)
    assert snapshot.update().removed == [str(a)]


def test_tail_reads_only_whole_new_lines(tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(json.dumps({"event": "run_started"}) + "\n")
    tail = MetricsTail(tmp_path)                       # from the end: the old line is known
    assert tail.read() == []
    with open(metrics, "a") as f:
        f.write(json.dumps({"event": "batch_end", "step": 1}) + "\n")
        f.write('{"event": "batch_end", "st')          # a line still being written
    assert tail.read() == [{"event": "batch_end", "step": 1}]
    with open(metrics, "a") as f:
        f.write('ep": 2}\n')
    assert tail.read() == [{"event": "batch_end", "step": 2}]
    metrics.write_text('{"event": "x"}\n')              # rewritten shorter: read from the start
    assert tail.read() == [{"event": "x"}]
    assert MetricsTail(tmp_path, from_end=False).read() == [{"event": "x"}]
