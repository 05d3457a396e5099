"""Every shipped lesson plays to its end in the window (fast mode: one epoch on a few
batches), and the player's Next / Back / click waits, and Add step, behave as a presenter
expects. One window serves the module: a window each would cost its start-up per lesson."""

from __future__ import annotations

import json
import time

import pytest
from PySide6.QtCore import QEventLoop, QSettings, QTimer

from cnnstudio.core.lessons import list_lessons, load_lesson
from cnnstudio.core.presets import find_preset
from cnnstudio.gui.lessons import player as player_module
from cnnstudio.gui.lessons.actions import add_step, open_lesson

LESSONS = list_lessons()
TIMINGS: dict[str, float] = {}


@pytest.fixture(autouse=True)
def _no_dangling_threads_or_timers():
    """The shared window's panels may keep a timer between these tests: the window is
    closed, and nothing may run after that, once at the module's end instead."""
    yield


def spin(until, seconds: float) -> bool:
    """Run the event loop until ``until()`` or ``seconds`` (an event loop, not a sleep)."""
    deadline = time.monotonic() + seconds
    while not until() and time.monotonic() < deadline:
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    return until()


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    from cnnstudio.gui.main_window import MainWindow

    root = tmp_path_factory.mktemp("lessons")
    (root / "runs").mkdir()
    studio = MainWindow(runs_root=root / "runs",
                        settings=QSettings(str(root / "settings.ini"), QSettings.IniFormat))
    studio.confirm_close = lambda: True
    studio.show()
    assert spin(lambda: studio.tf_ready, 240)
    yield studio
    studio.close()
    assert not studio.bridge.running
    assert getattr(studio, "lesson_player", None) is None
    studio.deleteLater()
    if TIMINGS:
        print("\nfast lesson plays: " + ", ".join(f"{k} {v:.1f} s" for k, v in TIMINGS.items()))


class Watch:
    """What a player said: the steps it showed, its waits, how it ended."""

    def __init__(self, player):
        self.steps: list[int] = []
        self.waits: list[bool] = []
        self.ended: str | None = None
        self.line = ""
        player.step_started.connect(self.steps.append)
        player.waiting.connect(self.waits.append)
        player.finished.connect(lambda: setattr(self, "ended", "finished"))
        player.failed.connect(self._failed)

    def _failed(self, line: str) -> None:
        self.ended, self.line = "failed", line


def write_lesson(path, steps, title="A test lesson"):
    path.write_text(json.dumps({"title": title, "steps": steps}))
    return path


TINY = {"do": "set", "dataset": {"id": "digits", "options": {"size": 16}},
        "model": {"id": "mlp", "options": {"units": 16, "hidden_layers": 1}},
        "training": {"batch_size": 64, "steps_per_call": 1}}


def test_nine_chapters_are_shipped():
    assert [info.chapter for info in LESSONS] == list(range(1, 10))


@pytest.mark.slow
@pytest.mark.parametrize("info", LESSONS, ids=[i.key for i in LESSONS])
def test_a_shipped_lesson_plays_to_its_end(window, info):
    lesson = load_lesson(info.path)
    t0 = time.monotonic()
    player = open_lesson(window, info.path, fast=True, clicks=False)
    watch = Watch(player)
    assert window.lesson_player is player
    assert spin(lambda: watch.ended is not None, 240), f"stuck at step {player.index + 1}"
    TIMINGS[info.key] = time.monotonic() - t0
    assert watch.ended == "finished", watch.line
    # open_lesson started it, so step 0 came before Watch connected.
    assert [0, *watch.steps] == list(range(len(lesson.steps)))
    assert window.lesson_player is None
    assert not window.bridge.running
    # The last tab or dock a step named is in front.
    tabs = [s.fields["tab"] for s in lesson.steps if s.kind == "tab"]
    if tabs and lesson.steps[-1].kind != "preset":
        shown = window.tabs.tabText(window.tabs.currentIndex())
        assert shown.lower() == tabs[-1].lower() or tabs[-1] in window.tabs.panels()


def test_a_click_wait_holds_until_next_and_back_shows_the_step_before(window, tmp_path):
    path = write_lesson(tmp_path / "clicks.json", [
        {"do": "caption", "caption": "one"},
        {"do": "tab", "tab": "Training curves", "caption": "two"},
        {"do": "wait", "click": True, "caption": "three"},
        {"do": "caption", "caption": "four"}])
    player = open_lesson(window, path, fast=True)
    watch = Watch(player)
    assert spin(lambda: player.state == "click", 10)
    assert (player.index, watch.steps, watch.waits) == (2, [1, 2], [True])
    spin(lambda: False, 0.2)                 # nothing moves while it waits
    assert player.index == 2 and watch.ended is None
    player.back()                            # step 2 again, not replayed: waits for Next
    assert (player.index, player.state, watch.steps[-1]) == (1, "click", 1)
    assert window.lesson_bar.caption.text() == "two"
    player.next()                            # on to the click wait again
    assert spin(lambda: (player.index, player.state) == (2, "click"), 10)
    player.next()
    assert spin(lambda: watch.ended == "finished", 10)
    assert watch.steps == [1, 2, 1, 2, 3]
    assert window.lesson_bar.caption.text() == "four"
    assert window.lesson_player is None


@pytest.mark.slow
def test_next_during_training_stops_the_run_and_goes_on(window, tmp_path, monkeypatch):
    monkeypatch.setattr(player_module, "dwell_seconds", lambda caption: 0.0)
    path = write_lesson(tmp_path / "long.json", [
        TINY, {"do": "train", "epochs": 500}, {"do": "caption", "caption": "after"}])
    player = open_lesson(window, path)            # full speed: 500 epochs unless cut short
    watch = Watch(player)
    batches = []
    window.bridge.batches.connect(batches.append)
    try:
        assert spin(lambda: player.state == "training" and batches, 60)
        assert True in watch.waits
        player.next()
        assert spin(lambda: watch.ended is not None, 60)
    finally:
        window.bridge.batches.disconnect(batches.append)
    assert watch.ended == "finished", watch.line
    assert not window.bridge.running
    status = json.loads((window.bridge.run_dir / "status.json").read_text())
    assert status["status"] == "stopped" and status["epoch"] < 500


def test_a_missing_tab_fails_with_one_line_naming_the_step(window, tmp_path):
    path = write_lesson(tmp_path / "bad-tab.json", [
        {"do": "caption", "caption": "fine"}, {"do": "tab", "tab": "No such tab"}])
    player = open_lesson(window, path, fast=True)
    watch = Watch(player)
    assert spin(lambda: watch.ended is not None, 10)
    assert watch.ended == "failed"
    assert watch.line.startswith("bad-tab.json step 2 (tab): no tab 'No such tab' for this "
                                 "model — its tabs: Training curves")
    assert "\n" not in watch.line
    assert window.lesson_player is None


def test_add_step_writes_the_window_as_steps_that_load_and_play_again(window, tmp_path):
    path = tmp_path / "mine.json"
    window.set_run_config(find_preset("quickstart-lenet5-offline").config())
    window.tabs.setCurrentIndex(0)
    lesson = add_step(window, path, caption="Where we start")
    assert lesson is not None
    data = json.loads(path.read_text())
    assert data["title"] == "Mine"
    assert data["steps"] == [
        {"do": "preset", "preset": "quickstart-lenet5-offline"},
        {"do": "tab", "tab": "Training curves", "caption": "Where we start"}]
    config = window.run_config()
    config.training.epochs = 7
    config.model.options["pooling"] = "avg"
    window.set_run_config(config)
    add_step(window, path, caption="")
    again = load_lesson(path)
    assert [s.kind for s in again.steps] == ["preset", "tab", "preset", "set", "tab"]
    assert again.steps[3].fields == {"model": {"pooling": "avg"},
                                     "training": {"epochs": 7}}
    player = open_lesson(window, path, fast=True, clicks=False)
    watch = Watch(player)
    assert spin(lambda: watch.ended is not None, 30)
    assert watch.ended == "finished", watch.line
    assert window.run_config().model.options["pooling"] == "avg"
