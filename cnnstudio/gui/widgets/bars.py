"""The control row a replayable panel starts with: "Epoch", its slider, where it stands
("3  (of 10)"), then the panel's own controls, each after its label when it has one."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget


def epoch_bar(slider: QWidget, label: QWidget, *controls) -> QHBoxLayout:
    """``controls``: widgets, or (label text, widget) pairs."""
    bar = QHBoxLayout()
    bar.addWidget(QLabel("Epoch"))
    bar.addWidget(slider, 1)
    bar.addWidget(label)
    for control in controls:
        if isinstance(control, tuple):
            text, control = control
            bar.addWidget(QLabel(text))
        bar.addWidget(control)
    return bar
