"""``cnnstudio --lesson``: play a lesson in the window and say how it ended.

exit_code: 0 when the lesson reached its end, 1 when a step failed (its one line on
stderr) or, with --exit-at-end, when the window closed before the end.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QTimer

END_SETTLE_MS = 600       # the last step's picture stays a moment (and reaches a recording)


class LessonRun:
    def __init__(self, window, lesson, fast: bool = False, presenter: bool = False,
                 exit_at_end: bool = False):
        self.window, self.lesson = window, lesson
        self.fast, self.presenter, self.exit_at_end = fast, presenter, exit_at_end
        self.exit_code = 1 if exit_at_end else 0
        self.player = None
        self._t0 = 0.0
        if exit_at_end:
            window.confirm_close = lambda: True      # nobody is there to answer

    def start(self) -> None:
        from cnnstudio.gui.lessons.actions import open_lesson

        if self.presenter and getattr(self.window, "presenter", None) is None:
            try:
                from cnnstudio.gui.presenter import install
            except ImportError as exc:
                print(f"cnnstudio: presenter mode is not available: {exc}", file=sys.stderr)
            else:
                install(self.window)
        self._t0 = time.monotonic()
        self.player = open_lesson(self.window, self.lesson, presenter=self.presenter,
                                  fast=self.fast, clicks=not self.exit_at_end)
        self.player.finished.connect(self._finished)
        self.player.failed.connect(self._failed)

    def _finished(self) -> None:
        self.exit_code = 0
        print(f"cnnstudio: lesson '{self.lesson.title}' played to its end in "
              f"{time.monotonic() - self._t0:.1f} s")
        self._end()

    def _failed(self, line: str) -> None:
        self.exit_code = 1
        print(f"cnnstudio: {line}", file=sys.stderr)
        self._end()

    def _end(self) -> None:
        if self.exit_at_end:
            QTimer.singleShot(END_SETTLE_MS, self.window.close)
