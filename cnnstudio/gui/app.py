"""``cnnstudio`` with no sub-command: the studio window.

    cnnstudio                                   the embedded default (MNIST-5k, LeNet-5)
    cnnstudio --preset chapter4-lenet5-mnist --autorun   a book lesson, started at once
    cnnstudio --screenshot-dir docs/screenshots --exit-after-epochs 2
                                                PNGs of the window and each panel, then exit 0

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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Checked before Qt loads a platform plugin: Qt itself would abort (exit 134).
    problem = display_problem()
    if problem:
        if not args.screenshot_dir:      # the CLI, which called us, trains headless
            raise NoDisplay(problem)
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

    from cnnstudio.gui.main_window import MainWindow

    settings = None
    if args.screenshot_dir:       # README pictures must not depend on the user's saved layout
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
    if owns_app:
        app.exec()
        # The window is closed, its run stopped and joined, its files written. PySide 6.12
        # sometimes aborts while the interpreter tears down Qt wrappers after this point
        # ("Fatal Python error: bool_dealloc"), so the process leaves without that teardown.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(shooter.exit_code if shooter else 0)
    else:                       # inside a test's QApplication: wait for this window only
        loop = QEventLoop()
        window.destroyed.connect(loop.quit)
        window.closed.connect(loop.quit)
        loop.exec()
    return shooter.exit_code if shooter else 0
