"""The Runs panel and the curves follow a run that another process writes into the runs folder."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cnnstudio.gui.panels.plots_panel import PlotsPanel
from cnnstudio.gui.panels.runs_panel import RunsPanel
from cnnstudio.gui.run_follower import RunFollower

# Another process: creates a run folder, then appends one metrics line (or finishes) for each
# command it reads, so the test decides when the run grows without sleeping.
WRITER = r"""
import json, os, sys, time
from cnnstudio.core.config import RunConfig
run = os.path.join(sys.argv[1], "20260101-000000-digits-mlp-remote")
sys.stdin.readline()              # the test says when
os.makedirs(run)
def status(s):
    with open(os.path.join(run, ".s"), "w") as f:
        json.dump({"status": s, "pid": os.getpid(), "epoch": 0}, f)
    os.replace(os.path.join(run, ".s"), os.path.join(run, "status.json"))
with open(os.path.join(run, "metrics.jsonl"), "a") as m:
    m.write(json.dumps({"event": "run_started", "batch_size": 10, "num_train": 40}) + "\n")
    m.flush()
    status("running")
    with open(os.path.join(run, ".c"), "w") as f:
        f.write(RunConfig().to_json())
    os.replace(os.path.join(run, ".c"), os.path.join(run, "config.json"))
    print(run, flush=True)
    step = 0
    for line in sys.stdin:
        if line.strip() == "finish":
            status("finished")
        else:
            step += 1
            m.write(json.dumps({"event": "batch_end", "epoch": 1, "step": step, "steps": 4,
                                "logs": {"loss": 1.0 / step, "accuracy": 0.2 * step}}) + "\n")
            m.flush()
        print("ok", flush=True)
"""


@pytest.fixture
def writer(runs_root):
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(runs_root)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    yield process
    process.stdin.close()
    process.wait(timeout=10)


def _say(process, command: str) -> None:
    process.stdin.write(command + "\n")
    process.stdin.flush()
    assert process.stdout.readline().strip() == "ok"


@pytest.mark.slow
def test_runs_panel_and_curves_follow_a_run_written_by_another_process(qtbot, runs_root,
                                                                        writer):
    panel = RunsPanel(runs_root)
    plots = PlotsPanel()
    follower = RunFollower(panel.watcher, plots)
    qtbot.addWidget(panel)
    qtbot.addWidget(plots)
    panel.show()
    assert panel.watcher.active and panel.paths == []
    with qtbot.waitSignal(panel.watcher.changed, timeout=10_000):
        writer.stdin.write("start\n")
        writer.stdin.flush()
        run = writer.stdout.readline().strip()           # the folder is complete now
    qtbot.waitUntil(lambda: run in panel.paths, timeout=10_000)
    assert panel.status_of(run) == "running"
    panel.select(run)
    assert panel.buttons["open"].isEnabled() and not panel.buttons["delete"].isEnabled()

    plots.load_records("remote", [], [], (10, 40))       # what the window does on Open
    follower.follow(run)
    for expected in (1, 2, 3):
        with qtbot.waitSignal(panel.watcher.grown, timeout=10_000):
            _say(writer, "batch")
        plots.flush()
        assert plots.point_counts()["loss"] == expected   # the curve grows, one batch a line
    # Keras's running means 1, 1/2, 1/3 over 10-image batches are batch losses 1, 0, 0.
    assert list(plots.values("loss")[1]) == pytest.approx([1.0, 0.0, 0.0], abs=1e-9)

    with qtbot.waitSignal(follower.status_changed, timeout=10_000) as blocker:
        _say(writer, "finish")
    assert blocker.args == [run, "finished"]
    qtbot.waitUntil(lambda: panel.status_of(run) == "finished", timeout=10_000)
    panel.hide()
    assert not panel.watcher.active                       # nobody looks: no polling


def test_polling_alone_sees_a_new_run_where_no_change_events_come(qtbot, runs_root, monkeypatch):
    monkeypatch.setenv("CNNSTUDIO_RUNS_POLL_S", "0.2")
    panel = RunsPanel(runs_root)
    qtbot.addWidget(panel)
    panel.watcher.fs.directoryChanged.disconnect()       # as on a network share
    panel.watcher.fs.fileChanged.disconnect()
    panel.show()
    assert panel.watcher.poll.interval() == 200
    folder = runs_root / "20260101-000000-digits-mlp-share"
    folder.mkdir()
    from cnnstudio.core.config import RunConfig

    (folder / "config.json").write_text(RunConfig().to_json())
    with qtbot.waitSignal(panel.watcher.changed, timeout=5_000) as blocker:
        pass
    assert blocker.args[0].added == [str(folder)]
    assert panel.paths == [str(folder)]
    panel.hide()
