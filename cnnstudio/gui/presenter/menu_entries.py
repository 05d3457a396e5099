"""The menu entries of issue 28: File → Lessons ▸, View → Presenter (F5), View → Presenter
text size ▸, View → Record… / Stop recording.

The lessons' and the recorder's modules are imported inside the slots: a menu costs
nothing at start-up, and opening the window never depends on them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QFileDialog

from cnnstudio.core.errors import StudioError
from cnnstudio.gui.menu_action import add_action as _add
from cnnstudio.gui.presenter.presenter import SCALES

VIDEO_FILTER = "MP4 video (*.mp4);;Animated GIF (*.gif)"


# -- File → Lessons ▸ ------------------------------------------------------------
def build_lessons_menu(window, file_menu) -> None:
    menu = file_menu.addMenu("Lessons")
    window.lesson_actions = {}
    for info in _shipped_lessons(window):
        chapter = f"{info.chapter}. " if info.chapter is not None else ""
        window.lesson_actions[info.key] = _add(
            window, menu, f"{chapter}{info.title}".replace("&", "&&"),
            lambda _=False, k=info.key: open_lesson(window, k),
            tip=f"Play the lesson {info.key} ({info.steps} steps) in presenter mode.")
    if window.lesson_actions:
        menu.addSeparator()
    _add(window, menu, "Open lesson file…", lambda: _lessons_call(window, "ask_open_lesson"),
         tip="Play a lesson file of your own (JSON).")
    _add(window, menu, "Add step to lesson…", lambda: _lessons_call(window, "add_step"),
         tip="Append the window's current state (preset, tab, epoch) to a lesson file.")


def _shipped_lessons(window) -> list:
    try:
        from cnnstudio.core.lessons import list_lessons

        return list_lessons()
    except (ImportError, StudioError) as exc:       # a broken lesson file names itself
        window.status(f"Lessons: {str(exc).splitlines()[0]}" if str(exc) else
                      "Lessons could not be listed.")
        return []


def open_lesson(window, key: str) -> None:
    _lessons_call(window, "open_lesson", key, presenter=True)


def _lessons_call(window, name: str, *args, **kwargs):
    try:
        from cnnstudio.gui.lessons import actions
    except ImportError as exc:
        window.status(f"Lessons are not available: {exc}")
        return None
    try:
        return getattr(actions, name)(window, *args, **kwargs)
    except StudioError as exc:
        window.status(str(exc).splitlines()[0])
        return None


# -- View → Presenter, text size, recording ------------------------------------------
def build_view_entries(window, view_menu) -> None:
    presenter = window.presenter
    window.presenter_action = _add(
        window, view_menu, "Presenter", presenter.toggle, Qt.Key_F5,
        "Full screen, large type, high contrast, the lesson's captions; Esc leaves.")
    window.presenter_action.setCheckable(True)
    # Toggled from here, by Esc, by a lesson: the tick follows the mode.
    presenter.toggled.connect(window.presenter_action.setChecked)
    window.addAction(window.presenter_action)     # F5 also when the menu bar is hidden
    sizes = view_menu.addMenu("Presenter text size")
    group = QActionGroup(window)
    window.presenter_scale_actions = {}
    for scale in SCALES:
        action = _add(window, sizes, f"{scale:g}×",
                      lambda _=False, s=scale: setattr(presenter, "scale", s),
                      tip=f"Type and plot lines {scale:g} times their size in presenter mode.")
        action.setCheckable(True)
        action.setChecked(abs(presenter.scale - scale) < 1e-6)
        group.addAction(action)
        window.presenter_scale_actions[scale] = action
    view_menu.addSeparator()
    window.record_action = _add(window, view_menu, "Record…", lambda: ask_record(window),
                                tip="Record the window as an MP4 or a GIF video.")
    window.stop_record_action = _add(window, view_menu, "Stop recording",
                                     lambda: stop_record(window),
                                     tip="Finish the video being recorded.")
    window.stop_record_action.setEnabled(False)
    window.recorder = None
    # A recording still going when the window closes is finished, not left half-written.
    window.closed.connect(lambda: stop_record(window) if window.recorder is not None else None)


def ask_record(window) -> None:
    path, _ = QFileDialog.getSaveFileName(window, "Record the window", "lesson.mp4", VIDEO_FILTER)
    if path:
        start_record(window, path)


def start_record(window, path: str) -> None:
    if window.recorder is not None:
        window.status("Already recording; stop that recording first.")
        return
    if not Path(path).suffix:           # a name typed without one: the filter's first
        path += ".mp4"
    try:
        from cnnstudio.gui.recorder import WindowRecorder

        recorder = WindowRecorder(window, path)
        recorder.failed.connect(lambda reason: _record_failed(window, reason))
        recorder.start()
    except (ImportError, StudioError) as exc:
        window.status(f"Cannot record: {str(exc).splitlines()[0]}")
        return
    window.recorder = recorder
    _recording(window, True)
    window.status(f"Recording the window to {path} — View → Stop recording to finish.")


def stop_record(window) -> None:
    recorder, window.recorder = window.recorder, None
    _recording(window, False)
    if recorder is None:
        return
    try:
        path = recorder.stop()
    except StudioError as exc:
        window.status(f"Recording failed: {str(exc).splitlines()[0]}")
        return
    window.status(f"Recorded {recorder.frames} frames to {path}")


def _record_failed(window, reason: str) -> None:
    window.recorder = None
    _recording(window, False)
    window.status(f"Recording failed: {reason}")


def _recording(window, on: bool) -> None:
    window.record_action.setEnabled(not on)
    window.stop_record_action.setEnabled(on)
