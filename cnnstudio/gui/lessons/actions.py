"""What the menus call: play a lesson, pick a lesson file, save the window as lesson steps.

    player = open_lesson(window, "chapter4")          # plays at once; window.lesson_player
    open_lesson(window, path, presenter=True)          # full screen, large type (Presenter)
    add_step(window)                                   # asks for the file and a caption
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from cnnstudio.core.config import RunConfig, TrainConfig
from cnnstudio.core.errors import StudioError
from cnnstudio.core.lessons import Lesson, LessonError, lessons_dir, load_lesson, save_steps
from cnnstudio.core.presets import list_presets
from cnnstudio.gui.lessons import window_parts
from cnnstudio.gui.lessons.lesson_bar import LessonBar
from cnnstudio.gui.lessons.player import LessonPlayer

FILTER = "Lessons (*.json);;All files (*)"


def open_lesson(window, key_or_path, presenter: bool = False, fast: bool = False,
                clicks: bool = True) -> LessonPlayer:
    """Play a lesson (a shipped key, a file, or a loaded Lesson) in ``window``, stopping one
    already playing. A bad file raises LessonError (one line per mistake) and leaves the
    window as it was. ``clicks=False``: a click wait is a short pause (nobody watching)."""
    lesson = key_or_path if isinstance(key_or_path, Lesson) else load_lesson(key_or_path)
    playing = getattr(window, "lesson_player", None)
    if playing is not None:
        playing.stop()
    player = LessonPlayer(window, lesson, fast=fast)
    player.clicks = clicks
    presenting = presenter and getattr(window, "presenter", None) is not None
    if presenting:
        window.presenter.enter(player)
    else:
        lesson_bar(window).follow(player)
    player.start()
    return player


def lesson_bar(window) -> LessonBar:
    bar = getattr(window, "lesson_bar", None)
    if bar is None:
        bar = LessonBar(window)
        window.addToolBar(Qt.BottomToolBarArea, bar)
        window.lesson_bar = bar
    return bar


def open_lesson_or_say(window, key_or_path, presenter: bool = False) -> LessonPlayer | None:
    """``open_lesson`` for a menu: a bad file is shown in a dialog, not raised."""
    try:
        return open_lesson(window, key_or_path, presenter=presenter)
    except StudioError as exc:
        window.status(str(exc).splitlines()[0])
        QMessageBox.warning(window, "This lesson cannot play", str(exc))
        return None


def ask_open_lesson(window, presenter: bool = False) -> LessonPlayer | None:
    path, _ = QFileDialog.getOpenFileName(window, "Open a lesson", str(lessons_dir()), FILTER)
    return open_lesson_or_say(window, path, presenter=presenter) if path else None


# -- Add step ---------------------------------------------------------------------------------
def current_state_steps(window, caption: str = "") -> list[dict[str, Any]]:
    """The window as lesson steps: its setup (a preset, then what differs from it, as a
    set step), the tab in front, and the epoch its slider shows."""
    config = window.run_config()
    steps = setup_steps(config)
    tabs = window.tabs
    steps.append({"do": "tab", "tab": tabs.tabText(tabs.currentIndex())})
    control = window_parts.control_of(tabs.current_panel())
    epoch = control.current() if control is not None else None
    if epoch:
        steps.append({"do": "epoch", "epoch": int(epoch)})
    if caption:
        steps[-1]["caption"] = caption
    return steps


def setup_steps(config: RunConfig) -> list[dict[str, Any]]:
    """A preset step for the closest preset of the same dataset and model (if any), then a
    set step with what differs from it."""
    base, steps = RunConfig(), []
    candidates = []
    for preset in list_presets():
        try:
            other = preset.config()
        except StudioError:
            continue
        if (other.dataset.id, other.model.id) == (config.dataset.id, config.model.id):
            candidates.append((len(_differences(other, config)), preset.key, other))
    if candidates:
        _, key, base = min(candidates, key=lambda c: (c[0], c[1]))
        steps.append({"do": "preset", "preset": key})
    changes = _differences(base, config)
    if changes:
        steps.append({"do": "set", **changes})
    return steps


def _differences(base: RunConfig, config: RunConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ("dataset", "model"):
        mine, theirs = getattr(config, part), getattr(base, part)
        if mine.id != theirs.id:
            out[part] = {"id": mine.id, "options": dict(mine.options or {})}
        else:
            changed = {k: v for k, v in (mine.options or {}).items()
                       if (theirs.options or {}).get(k) != v}
            if changed:
                out[part] = changed
    defaults = TrainConfig()
    training = {}
    for name in vars(defaults):
        value = getattr(config.training, name)
        if value != getattr(base.training, name):
            training[name] = value
    if training:
        out["training"] = training
    return out


def add_step(window, path: str | Path | None = None, caption: str | None = None):
    """Append the window's state to a lesson file (asked for when ``path`` is None), with a
    caption (asked for when None). Returns the saved Lesson, or None when cancelled or
    refused (the reason in the status line and a dialog)."""
    if path is None:
        path, _ = QFileDialog.getSaveFileName(window, "Add the window to a lesson",
                                              str(Path.home() / "my-lesson.json"), FILTER,
                                              options=QFileDialog.DontConfirmOverwrite)
        if not path:
            return None
    if caption is None:
        caption, ok = QInputDialog.getMultiLineText(
            window, "Caption", "What should the class read at this step? (may be empty)")
        if not ok:
            return None
    steps = current_state_steps(window, caption.strip())
    try:
        lesson = save_steps(path, steps)
    except (LessonError, StudioError) as exc:
        window.status(str(exc).splitlines()[0])
        QMessageBox.warning(window, "The step was not added", str(exc))
        return None
    window.status(f"Added {len(steps)} steps to {Path(path).name} "
                  f"({len(lesson.steps)} steps now)")
    return lesson
