"""Screenshots of presenter mode, one per shipped lesson, for the docs:

    python -m cnnstudio.gui.presenter.shots OUT_DIR [KEY ...] [--size 1366x768]

Each lesson plays in fast mode (1 epoch on data cut where the dataset allows it, here let
run to its end so the panels have something to show) in a fresh window with its own
temporary settings and runs folder, in presenter mode; steps that wait for a click are
clicked on; at its last step the window is grabbed as OUT_DIR/<key>.png. Offscreen when
there is no display. Exit 1 when a lesson failed (its one line on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

LESSON_TIMEOUT_MS = 10 * 60 * 1000
# Fast mode stops a run after a few batches; a picture wants its panels full (probes,
# a saved model, a confusion matrix): the one epoch on the cut data may end, within this.
SHOT_RUN_SECONDS = 90


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnstudio.gui.presenter.shots")
    parser.add_argument("out_dir")
    parser.add_argument("keys", nargs="*", help="lesson keys (default: every shipped lesson)")
    parser.add_argument("--size", default="1366x768", help="window size, WxH")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    width, height = (int(v) for v in args.size.lower().split("x"))
    from PySide6.QtWidgets import QApplication

    from cnnstudio.core.lessons import list_lessons

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keys = args.keys or [info.key for info in list_lessons()]
    failures = 0
    for key in keys:
        error = shoot(app, key, out / f"{key}.png", (width, height))
        if error:
            failures += 1
            print(f"{key}: {error}", file=sys.stderr)
        else:
            print(out / f"{key}.png")
    return 1 if failures else 0


def shoot(app, key: str, path: Path, size: tuple[int, int]) -> str | None:
    """Play lesson ``key`` in presenter mode and grab its last step; the failure, or None."""
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from cnnstudio.core.lessons import load_lesson
    from cnnstudio.gui.lessons.player import LessonPlayer
    from cnnstudio.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory(prefix="cnnstudio-shots-") as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.IniFormat)
        window = MainWindow(runs_root=Path(tmp) / "runs", settings=settings)
        window.confirm_close = lambda: True
        window.show()
        outcome: dict = {}
        loop = QEventLoop()
        try:
            player = LessonPlayer(window, load_lesson(key), fast=True)
        except Exception as exc:           # a lesson that cannot load: say so, go on
            window.close()
            return str(exc).splitlines()[0]
        window.lesson_player = player
        player.fast_steps, player.fast_run_seconds = 10**9, SHOT_RUN_SECONDS

        def waiting(on: bool) -> None:     # a click step: click on (a run trains by itself)
            step = player.lesson.steps[player.index] if 0 <= player.index < len(
                player.lesson.steps) else None
            if on and step is not None and step.kind == "wait":
                QTimer.singleShot(0, player.next)

        def done(reason: str | None = None) -> None:
            outcome.setdefault("error", reason)
            loop.quit()

        player.waiting.connect(waiting)
        player.finished.connect(done)
        player.failed.connect(done)
        timeout = QTimer()
        timeout.setSingleShot(True)
        timeout.timeout.connect(lambda: done(f"did not finish in {LESSON_TIMEOUT_MS // 1000} s"))
        window.presenter.enter(player)
        player.start()
        timeout.start(LESSON_TIMEOUT_MS)
        if "error" not in outcome:
            loop.exec()
        timeout.stop()
        # Full screen on the offscreen screen is its size; the docs want a projector's.
        window.resize(*size)
        for _ in range(5):
            app.processEvents()
        window.presenter.refresh()
        app.processEvents()
        window.grab().save(str(path))
        player.stop()
        window.presenter.leave()
        window.close()
        app.processEvents()
        return outcome.get("error")


if __name__ == "__main__":
    sys.exit(main())
