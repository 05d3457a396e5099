"""``cnnstudio`` with no sub-command: the studio window.

    cnnstudio                                   the embedded default (MNIST-5k, LeNet-5)
    cnnstudio --preset chapter4-lenet5-mnist --autorun   a book lesson, started at once
    cnnstudio --screenshot-dir docs/screenshots --exit-after-epochs 2
                                                PNGs of the window and each panel, then exit 0
    cnnstudio --lesson chapter4 [--presenter] [--record out.mp4] [--exit-at-end]
                                                a lesson plays itself (exit 0 at its end,
                                                1 when a step failed, 2 for a bad file)
    cnnstudio --check-lesson my-lesson.json     "ok: N steps", or one line per mistake (exit 2)

Importing this module imports Qt but not TensorFlow: the window shows first.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from cnnstudio.gui.display_check import NoDisplay, display_problem

DEFAULT_PRESET = "quickstart-lenet5-offline"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return window_parser().parse_args(argv)


def window_parser() -> argparse.ArgumentParser:
    """The window's flags (``cnnstudio --help`` lists them too)."""
    parser = argparse.ArgumentParser(prog="cnnstudio", description="CNN Studio: the window.")
    parser.add_argument("--preset", help="open with a preset loaded (a file stem in "
                                         "cnnstudio/resources/presets, e.g. chapter4-lenet5-mnist)")
    parser.add_argument("--autorun", action="store_true", help="start training at once")
    parser.add_argument("--runs-dir", type=Path, help="the runs folder (default: "
                                                      "$CNNSTUDIO_RUNS or ~/cnnstudio-runs)")
    parser.add_argument("--screenshot-dir", type=Path,
                        help="train, save PNGs of the window and each panel, then exit")
    parser.add_argument("--exit-after-epochs", type=int, default=1, metavar="N",
                        help="with --screenshot-dir: take the pictures after N epochs")
    parser.add_argument("--theme", choices=["light", "dark"], help="colour theme")
    desktop = parser.add_argument_group("desktop (handled by cnnstudio.cli before any window)")
    desktop.add_argument("--install-desktop-entry", action="store_true",
                         help="add CNN Studio to the desktop's application menu (entry, icons "
                              "and AppStream metainfo under $XDG_DATA_HOME), then exit")
    desktop.add_argument("--uninstall-desktop-entry", action="store_true",
                         help="remove exactly what --install-desktop-entry wrote, then exit")
    lessons = parser.add_argument_group("lessons")
    lessons.add_argument("--lesson", metavar="KEY|FILE",
                         help="play a lesson: a shipped one (chapter1 … chapter9, or its full "
                              "key) or a lesson file")
    lessons.add_argument("--lesson-fast", action="store_true",
                         help="each training step trains 1 epoch on a few batches")
    lessons.add_argument("--presenter", action="store_true",
                         help="play it in presenter mode (full screen, large type)")
    lessons.add_argument("--record", type=Path, metavar="OUT.mp4|OUT.gif",
                         help="record the window as a video until it closes")
    lessons.add_argument("--exit-at-end", action="store_true",
                         help="close when the lesson ends (exit 0; 1 when a step failed); "
                              "offscreen when there is no display")
    lessons.add_argument("--check-lesson", metavar="FILE",
                         help='check a lesson file: prints "ok: N steps", or one line per '
                              "mistake (exit 2)")
    return parser


def check_lesson(path: str) -> int:
    from cnnstudio.core.lessons import LessonError, load_lesson

    try:
        lesson = load_lesson(path)
    except LessonError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"ok: {len(lesson.steps)} steps")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.check_lesson:
        return check_lesson(args.check_lesson)
    lesson = None
    if args.lesson:                      # a bad file is said before any window opens
        from cnnstudio.core.lessons import LessonError, load_lesson

        try:
            lesson = load_lesson(args.lesson)
        except LessonError as exc:
            print(str(exc), file=sys.stderr)
            return 2
    # Checked before Qt loads a platform plugin: Qt itself would abort (exit 134).
    problem = display_problem()
    if problem:
        if lesson is not None:
            # Nobody could click Next on no screen: the lesson plays through and exits.
            print(f"cnnstudio: {problem}; playing the lesson offscreen", file=sys.stderr)
            args.exit_at_end = True
        elif not args.screenshot_dir:      # the CLI, which called us, trains headless
            raise NoDisplay(problem)
        else:
            print(f"cnnstudio: {problem}; taking the pictures offscreen", file=sys.stderr)
        os.environ["QT_QPA_PLATFORM"] = "offscreen"    # pictures need no screen
    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    from cnnstudio.core.errors import StudioError
    from cnnstudio.gui.presets import find_preset

    try:
        preset = find_preset(args.preset or DEFAULT_PRESET)
        config = preset.config()
    except StudioError as exc:
        if args.preset:
            print(f"cnnstudio: {exc}", file=sys.stderr)
            return 2
        config = None           # no presets shipped (odd install): the pickers' defaults

    app = QApplication.instance()
    owns_app = app is None
    if owns_app:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("CNN Studio")
        app.setOrganizationName("CNN Studio")
        # The icon in the title bar and task switcher; the desktop file name lets Wayland
        # match the window to the installed entry (cnnstudio --install-desktop-entry).
        from cnnstudio.gui.app_icon import app_icon

        app.setWindowIcon(app_icon())
        app.setDesktopFileName("cnnstudio")

    from cnnstudio.gui.main_window import MainWindow

    settings = None
    # README pictures and unattended lessons must not depend on the user's saved layout.
    if args.screenshot_dir or (lesson is not None and args.exit_at_end):
        scratch = tempfile.mkdtemp(prefix="cnnstudio-settings-")
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(runs_root=args.runs_dir, settings=settings)
    if args.theme:
        window.set_theme(args.theme)
    if config is not None:
        window.set_run_config(config)
    shooter = None
    if args.screenshot_dir:
        from cnnstudio.gui.screenshots import ScreenshotRun

        shooter = ScreenshotRun(window, args.screenshot_dir, max(1, args.exit_after_epochs))
    window.show()
    if args.autorun or shooter:
        window.start_training()
    play = None
    if lesson is not None:
        from cnnstudio.gui.lessons.app_play import LessonRun

        play = LessonRun(window, lesson, fast=args.lesson_fast, presenter=args.presenter,
                         exit_at_end=args.exit_at_end)
    recording = start_recording(window, args.record) if args.record else None
    if args.record and recording is None:
        window.close()
        return 2
    if play is not None:
        play.start()
    if owns_app:
        app.exec()
        # The window is closed, its run stopped and joined, its files written. PySide 6.12
        # sometimes aborts while the interpreter tears down Qt wrappers after this point
        # ("Fatal Python error: bool_dealloc"), so the process leaves without that teardown.
        exit_code = _finish(shooter, play, recording)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code)
    else:                       # inside a test's QApplication: wait for this window only
        loop = QEventLoop()
        window.destroyed.connect(loop.quit)
        window.closed.connect(loop.quit)
        loop.exec()
        exit_code = _finish(shooter, play, recording)
    return exit_code


def start_recording(window, path: Path):
    """R's WindowRecorder on the window until it closes; None (said on stderr) when it
    cannot record."""
    from cnnstudio.core.errors import StudioError

    try:
        from cnnstudio.gui.recorder import WindowRecorder
    except ImportError as exc:
        print(f"cnnstudio: recording is not available here: {exc}", file=sys.stderr)
        return None
    recorder = WindowRecorder(window, path)
    recorder.failed.connect(lambda line: print(f"cnnstudio: recording failed: {line}",
                                               file=sys.stderr))
    try:
        recorder.start()
    except StudioError as exc:
        print(f"cnnstudio: {exc}", file=sys.stderr)
        return None
    return recorder


def _finish(shooter, play, recording) -> int:
    """The exit code once the window has closed; a recording is finished first."""
    code = shooter.exit_code if shooter else 0
    if recording is not None:
        from cnnstudio.core.errors import StudioError

        try:
            print(f"saved {recording.stop()}")
        except StudioError as exc:
            print(f"cnnstudio: recording failed: {exc}", file=sys.stderr)
            code = code or 1
    if play is not None:
        code = code or play.exit_code
    return code
