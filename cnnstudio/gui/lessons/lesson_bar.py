"""The lesson bar: a strip under the centre tabs while a lesson plays in the plain window
(Presenter mode has its own caption bar) — the step's caption, where the lesson is,
and Back / Next / Stop."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolBar, QToolButton


class LessonBar(QToolBar):
    def __init__(self, window):
        super().__init__("Lesson", window)
        self.setObjectName("lesson_bar")
        self.setMovable(False)
        self.player = None
        self.where = QLabel()
        self.where.setMinimumWidth(90)
        self.caption = QLabel(wordWrap=True)
        self.caption.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.back_button = self._button("◀ Back", "The step before, shown again")
        self.next_button = self._button("Next ▶", "Go on (a run training now stops)")
        self.stop_button = self._button("✕", "Leave the lesson")
        self.addWidget(self.back_button)
        self.addWidget(self.where)
        self.addWidget(self.caption)
        self.addWidget(self.next_button)
        self.addWidget(self.stop_button)
        self.caption.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.back_button.clicked.connect(lambda: self.player and self.player.back())
        self.next_button.clicked.connect(lambda: self.player and self.player.next())
        self.stop_button.clicked.connect(self.leave)

    def _button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        return button

    def follow(self, player) -> None:
        """Show ``player``'s steps (the bar outlives one lesson: the next one reuses it)."""
        if self.player is player:
            return
        if self.player is not None:
            for signal, slot in self._links(self.player):
                signal.disconnect(slot)
        self.player = player
        for signal, slot in self._links(player):
            signal.connect(slot)
        self.show()

    def _links(self, player):
        return ((player.step_started, self._step), (player.waiting, self._waiting),
                (player.finished, self._finished), (player.failed, self._failed))

    def _step(self, index: int) -> None:
        steps = self.player.lesson.steps
        self.where.setText(f"Step {index + 1} of {len(steps)}")
        self.caption.setText(steps[index].caption or self.player.lesson.title)
        self.back_button.setEnabled(index > 0)
        self.next_button.setEnabled(True)

    def _waiting(self, waiting: bool) -> None:
        training = self.player is not None and self.player.state in ("preparing", "training")
        self.next_button.setText("Skip ▶" if waiting and training else "Next ▶")

    def _finished(self) -> None:
        self.where.setText("Done")
        self.next_button.setEnabled(False)

    def _failed(self, line: str) -> None:
        self.where.setText("Stopped")
        self.caption.setText(line)
        self.next_button.setEnabled(False)

    def leave(self) -> None:
        if self.player is not None:
            self.player.stop()
        self.hide()
