"""``cnnstudio --check-lesson`` and ``--lesson``: their exit codes and lines, and a lesson
that leaves nothing running when its window closes mid-run."""

from __future__ import annotations

import json

import pytest

from cnnstudio.gui.app import main
from cnnstudio.gui.lessons.actions import open_lesson

TINY = {"do": "set", "dataset": {"id": "digits", "options": {"size": 16}},
        "model": {"id": "mlp", "options": {"units": 16, "hidden_layers": 1}},
        "training": {"batch_size": 64, "steps_per_call": 1}}


def write(path, steps):
    path.write_text(json.dumps({"title": "Test", "steps": steps}))
    return str(path)


def test_check_lesson_says_ok_or_one_line_per_mistake(tmp_path, capsys):
    good = write(tmp_path / "good.json", [{"do": "caption", "caption": "hi"},
                                          {"do": "tab", "tab": "Filters"}])
    assert main(["--check-lesson", good]) == 0
    assert capsys.readouterr().out == "ok: 2 steps\n"
    bad = write(tmp_path / "bad.json", [{"do": "tab", "tab": "Filters"},
                                        {"do": "train", "epochs": "two"},
                                        {"do": "preset", "preset": "no-such-preset"}])
    assert main(["--check-lesson", bad]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "bad.json step 2 (train): 'epochs' must be a whole number ≥ 1, got \"two\""
    assert err[1].startswith("bad.json step 3 (preset): 'preset' names no preset "
                             "'no-such-preset'")
    assert len(err) == 2
    assert main(["--check-lesson", "chapter4"]) == 0
    assert capsys.readouterr().out == "ok: 15 steps\n"


def test_a_bad_lesson_file_exits_2_before_any_window(tmp_path, capsys):
    bad = write(tmp_path / "bad.json", [{"do": "jump"}])
    assert main(["--lesson", bad, "--exit-at-end"]) == 2
    assert capsys.readouterr().err.startswith("bad.json step 1 (jump): unknown step kind")


@pytest.mark.slow
def test_a_lesson_exits_0_at_its_end_and_1_when_a_step_fails(qtbot, tmp_path, capsys):
    runs = str(tmp_path / "runs")
    good = write(tmp_path / "good.json", [
        {"do": "caption", "caption": "Hello"}, {"do": "dock", "dock": "runs"},
        {"do": "wait", "click": True, "caption": "nobody clicks: a pause"}])
    assert main(["--lesson", good, "--lesson-fast", "--exit-at-end", "--runs-dir", runs]) == 0
    assert "lesson 'Test' played to its end" in capsys.readouterr().out
    failing = write(tmp_path / "failing.json", [
        {"do": "caption", "caption": "Hello"}, {"do": "tab", "tab": "Nowhere"}])
    assert main(["--lesson", failing, "--lesson-fast", "--exit-at-end", "--runs-dir", runs]) == 1
    err = capsys.readouterr().err
    assert "cnnstudio: failing.json step 2 (tab): no tab 'Nowhere' for this model" in err


@pytest.mark.slow
def test_closing_the_window_mid_lesson_leaves_nothing_running(qtbot, studio, tmp_path):
    path = write(tmp_path / "long.json", [TINY, {"do": "train", "epochs": 500},
                                          {"do": "caption", "caption": "never reached"}])
    player = open_lesson(studio, path)
    qtbot.waitUntil(lambda: player.state == "training" and studio.bridge.running,
                    timeout=60_000)
    assert studio.lesson_player is player
    studio.close()
    assert player.state == "stopped"
    assert studio.lesson_player is None
    assert not studio.bridge.running
    assert not player._timer.isActive() and not player._poll.isActive()
