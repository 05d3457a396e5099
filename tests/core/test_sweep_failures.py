"""A sweep says why each failed trial failed, with the trial's number (issue 23): on the CLI
(even with --json, on stderr), in the sweep's summary file and in the trials' rows. Ray is
stood in for by an in-process fake with the calls the runner makes, so these run without
the cluster extra; tests/cluster/test_sweep.py runs the real Ray."""

from __future__ import annotations

import errno
import json
import re
import sys
from pathlib import Path

import pytest

from cnnstudio.cli import main
from cnnstudio.core.atomic import WriteFailed
from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.errors import DataError
from cnnstudio.core.sweeps import results, runner, spec

NAN = re.compile(r"^loss became nan at epoch 1, batch \d+: training diverged \(a learning "
                 r"rate too high, or bad numbers in the data\); no checkpoint was saved "
                 r"before it$")


class _Ref:
    def __init__(self, ray, fn, args):
        self.ray, self.fn, self.args = ray, fn, args


class FakeRay:
    """``ray`` as the runner calls it: each task runs in this process when it is waited on;
    ``dies`` maps a trial's index to the exception its task dies with (what ray.get raises
    for a task whose worker crashed or raised)."""

    def __init__(self, dies=None):
        self.dies = dies or {}

    def is_initialized(self):       # "already started": the runner leaves os.environ alone
        return True

    def available_resources(self):
        return {"CPU": 1}

    def put(self, value):
        return value

    def remote(self, **options):
        def task(fn):
            return type("Task", (), {"remote": lambda _, *args: _Ref(self, fn, args)})()
        return task

    def wait(self, refs, num_returns=1):
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref):
        index = ref.args[1]
        if index in self.dies:
            raise self.dies[index]
        return ref.fn(*ref.args)


class RayTaskError(Exception):
    """Like Ray's: its text is Ray's header and a traceback; what the task raised is ``cause``."""

    def __init__(self, cause):
        super().__init__(f"ray::run_trial() (pid=4242, ip=10.0.0.1)\n  File \"x.py\", line 1\n"
                         f"{type(cause).__name__}: {cause}")
        self.cause = cause


class WorkerCrashedError(Exception):
    pass


def _base() -> dict:
    # Eight ReLU layers of 512 and plain SGD at 9.9 overflow within the first batches on
    # digits; at 0.01 the same net trains.
    return RunConfig(DatasetConfig("digits", {}),
                     ModelConfig("mlp", {"units": 512, "hidden_layers": 8, "dropout": 0.0}),
                     TrainConfig(epochs=1, batch_size=64, optimizer="sgd")).to_dict()


def _sweep_file(tmp_path) -> Path:
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps({"base": _base(), "metric": "val_accuracy",
                                "grid": {"training.learning_rate": [0.01, 9.9]}}))
    return path


@pytest.mark.slow
def test_a_diverging_trial_is_shown_with_its_number_and_reason(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", FakeRay())
    sweep_file, root = _sweep_file(tmp_path), tmp_path / "runs"
    assert main(["sweep", str(sweep_file), "--runs-root", str(root)]) == 1  # not all finished
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.startswith("trial ")]
    assert len(lines) == 2 and lines[0].startswith("trial 1: finished  val_accuracy 0.")
    head, settings = lines[1].rsplit("  ", 1)
    assert head.startswith("trial 2: failed: ") and settings == "{'training.learning_rate': 9.9}"
    assert NAN.match(head.removeprefix("trial 2: failed: ")), head
    assert "1 of 2 trials failed (reasons above)" in err and "None" not in err
    plan = spec.load(sweep_file)
    summary_file = root / f"sweep-{plan.id}.json"
    assert out.splitlines()[0].startswith("Best: trial 1  val_accuracy ")
    assert out.splitlines()[-1] == f"Summary: {summary_file}"

    summary = json.loads(summary_file.read_text())
    assert (summary["trials"], summary["finished"], summary["failed"]) == (2, 1, 1)
    first, second = summary["results"]
    assert first["trial"] == 1 and first["status"] == "finished" and "reason" not in first
    assert second["trial"] == 2 and second["status"] == "failed" and second["value"] is None
    assert NAN.match(second["reason"]) and Path(second["run_dir"]).is_dir()
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []   # no temporary
    # The same reason in the trials' rows the studio's sweep view reads.
    rows = {r["trial"]: r for r in results.trials(root, plan.id)}
    assert rows[2]["status"] == "failed" and rows[2]["reason"] == second["reason"]
    assert rows[1]["reason"] is None

    # --json: stdout is the best trial's object alone; the failure is still told, on stderr.
    assert main(["sweep", str(sweep_file), "--runs-root", str(tmp_path / "again"),
                 "--json"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["settings"] == {"training.learning_rate": 0.01}
    assert [line.split(": ", 1)[0] for line in err.splitlines()
            if line.startswith("trial ")] == ["trial 2"]
    assert "trial 2: failed: loss became nan at epoch 1" in err


def test_a_task_that_dies_in_ray_keeps_its_trial_number_and_says_why(tmp_path, monkeypatch):
    dies = {0: RayTaskError(MemoryError("cannot allocate 12 GB")),
            1: WorkerCrashedError("The worker died unexpectedly while executing this task. "
                                  "Check python-core-worker-*.log files for more information.")}
    monkeypatch.setitem(sys.modules, "ray", FakeRay(dies))
    plan = spec.load(_sweep_file(tmp_path))
    told = []
    summary = runner.run(plan, tmp_path / "runs", progress=told.append)
    assert [r["trial"] for r in told] == [1, 2]
    assert [r["reason"] for r in summary["results"]] == [
        "MemoryError: cannot allocate 12 GB",
        "WorkerCrashedError: The worker died unexpectedly while executing this task. Check "
        "python-core-worker-*.log files for more information."]
    assert summary["results"][1]["settings"] == {"training.learning_rate": 9.9}
    assert summary["best"] is None and summary["failed"] == 2
    stored = json.loads(Path(summary["summary_file"]).read_text())
    assert stored["results"] == summary["results"]


def test_a_trial_the_engine_refuses_to_start_fails_with_the_engines_line(tmp_path, monkeypatch):
    from cnnstudio.core.training import engine

    def refuse(config, **kwargs):
        raise DataError("digits: the dataset cannot be read (disk error)")

    monkeypatch.setattr(engine, "run", refuse)
    plan = spec.load(_sweep_file(tmp_path))
    row = runner.run_trial(plan, 1, str(tmp_path))
    assert row == {"trial": 2, "status": "failed", "run_dir": None,
                   "settings": {"training.learning_rate": 9.9}, "value": None,
                   "reason": "digits: the dataset cannot be read (disk error)"}


def test_the_summary_file_is_written_whole_or_left_as_it_was(tmp_path, monkeypatch):
    plan = spec.load(_sweep_file(tmp_path))
    rows = [{"trial": 1, "status": "finished", "run_dir": "r1", "settings": plan.trials[0],
             "value": 0.5}]
    path = runner.write_summary(tmp_path, runner.summarize(plan, rows, 1.0))
    before = path.read_text()
    real = Path.write_bytes

    def half(self, data):
        real(self, data[:len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half)
    failed = [*rows, runner.failed(plan, 1, RayTaskError(ValueError("x")))]
    with pytest.raises(WriteFailed, match=rf"^cannot write {re.escape(str(path))}: the disk "
                                          "is full"):
        runner.write_summary(tmp_path, runner.summarize(plan, failed, 2.0))
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name, "sweep.json"]
