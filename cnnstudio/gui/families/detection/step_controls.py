"""Back, a step picker and Next: the walk-through bar of the Pipeline and R-CNN story tabs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QPushButton, QStyle, QWidget


class StepControls:
    """``on_step(step)`` is asked for the step chosen (it may be out of range: the owner
    clips it with ``show``); ``show(step)`` puts the controls on a step and returns it."""

    def __init__(self, owner: QWidget, steps, on_step):
        style = owner.style()
        # Qt's own arrow icons, not "◀"/"▶" characters a font may lack (a missing-glyph box).
        self.back_button = QPushButton(style.standardIcon(QStyle.SP_ArrowBack), "Back")
        self.next_button = QPushButton(style.standardIcon(QStyle.SP_ArrowForward), "Next")
        self.next_button.setLayoutDirection(Qt.RightToLeft)     # the arrow after the word
        self.step_box = QComboBox()
        self.step_box.addItems([f"{i + 1}. {name}" for i, name in enumerate(steps)])
        self.count, self.step = len(steps), 0
        self.back_button.clicked.connect(lambda: on_step(self.step - 1))
        self.next_button.clicked.connect(lambda: on_step(self.step + 1))
        self.step_box.currentIndexChanged.connect(on_step)

    def widgets(self) -> tuple:
        return self.back_button, self.step_box, self.next_button

    def show(self, step: int) -> int:
        self.step = max(0, min(int(step), self.count - 1))
        self.step_box.blockSignals(True)
        self.step_box.setCurrentIndex(self.step)
        self.step_box.blockSignals(False)
        self.back_button.setEnabled(self.step > 0)
        self.next_button.setEnabled(self.step < self.count - 1)
        return self.step
