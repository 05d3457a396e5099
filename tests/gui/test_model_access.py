"""ModelAccess: a request the live run could not serve (it ended first) goes to the run's
saved model instead of failing."""

from __future__ import annotations

from concurrent.futures import Future
from types import SimpleNamespace

import pytest

from cnnstudio.gui import model_access
from cnnstudio.gui.model_access import Answers, ModelAccess, ModelRunner


class EndedRun:
    """A bridge whose run ends before serving anything: every request comes back cancelled."""
    running = True

    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.asked = 0

    def submit(self, fn, callback):
        self.asked += 1
        future = Future()
        future.cancel()
        callback(future)
        return True


@pytest.mark.slow
def test_a_request_cancelled_by_the_run_ending_is_answered_by_the_saved_model(
        qtbot, tmp_path, monkeypatch):
    saved = SimpleNamespace(name="saved model")
    monkeypatch.setattr(model_access.ModelRunner, "from_run",
                        classmethod(lambda cls, run_dir: ModelRunner(model=saved)))
    bridge = EndedRun(tmp_path)
    answers = Answers()
    access = ModelAccess(SimpleNamespace(bridge=bridge), answers)
    access.set_run(tmp_path)
    results, errors = [], []
    access.submit("ask", lambda model: model.name, results.append, errors.append)
    qtbot.waitUntil(lambda: bool(results or errors), timeout=10_000)
    assert bridge.asked == 1 and results == ["saved model"] and errors == []
    access.close()
