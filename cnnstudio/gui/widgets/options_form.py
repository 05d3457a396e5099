"""A form for a dataset's or an architecture's options, built from their defaults and help texts.

Ints become spin boxes, floats decimal spin boxes, strings editable combo boxes.
An "optional" int (dataset options without a default) shows "default" at 0 and
is then left out of the options, so the source's own default applies.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QSpinBox, QWidget

from cnnstudio.core.families.attention.ram import RAM_CHOICES

# Known alternatives for string options, so a combo box can offer them.
CHOICES = {"activation": ["relu", "tanh", "sigmoid", "elu", "selu"],
           "pooling": ["max", "avg"]}
# Dataset options without registry defaults: (kind, minimum, maximum, step).
OPTIONAL = {"size": ("int", 8, 512, 1), "limit": ("int", 100, 10_000_000, 1000),
            "image_size": ("int", 8, 512, 8), "channels": ("int", 1, 3, 2),
            "test_fraction": ("float", 0.05, 0.85, 0.05),
            # the attention family's canvases (chapter 9)
            "canvas": ("int", 28, 512, 4), "clutter": ("int", 0, 64, 1),
            "noise": ("float", 0.0, 1.0, 0.05)}
# shape-scenes, the captioning scenes' generator (chapter 9)
OPTIONAL.update({"seed": ("int", 0, 1_000_000, 1), "max_objects": ("int", 1, 3, 1),
                 "test_count": ("int", 100, 20_000, 100)})
CHOICES["cell"] = ["gru", "lstm"]          # the captioner's decoder cell
CHOICES["attention"] = ["soft", "hard"]    # … and how it is trained to look
# The RAM (chapter 9): its core, its patch pathway, how "what" and "where" combine.
CHOICES.update({name: list(values) for name, values in RAM_CHOICES.items()})
HIDDEN = {"path", "stream"}
# Float options whose useful values are not 0..1 in steps of 0.05: (min, max, step, decimals).
# A weight average's decay lives just below 1 (0.99, 0.999).
FLOATS = {"ema": (0.0, 0.9999, 0.001, 4)}


class OptionsForm(QWidget):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.editors: dict[str, QWidget] = {}
        self.optional: set[str] = set()

    def build(self, defaults: dict[str, Any], help_texts: dict[str, str],
              optional: bool = False) -> None:
        """``optional``: keys without defaults (dataset options) start at "default"."""
        while self.layout_.rowCount():
            self.layout_.removeRow(0)
        self.editors.clear()
        self.optional.clear()
        keys = list(help_texts) if optional else list(defaults)
        for key in keys:
            if key in HIDDEN:
                continue
            if optional:
                if key not in OPTIONAL:
                    continue
                editor = self._optional_editor(key)
                self.optional.add(key)
            else:
                editor = self._editor(key, defaults[key])
            text = help_texts.get(key, key)
            # Only the first letter: str.capitalize() would lower "D's", "G's", "RoI"…
            editor.setToolTip(text[:1].upper() + text[1:] + ".")
            editor.setObjectName(f"option_{key}")
            self.editors[key] = editor
            self.layout_.addRow(key.replace("_", " ") + ":", editor)

    def _editor(self, key: str, default: Any) -> QWidget:
        if isinstance(default, bool):
            editor = QComboBox()
            editor.addItems(["true", "false"])
            editor.setCurrentText("true" if default else "false")
            editor.currentTextChanged.connect(self.changed)
        elif isinstance(default, int):
            editor = QSpinBox()
            editor.setRange(0, 100_000)
            editor.setValue(default)
            editor.valueChanged.connect(self.changed)
        elif isinstance(default, float):
            low, high, step, decimals = FLOATS.get(key, (0.0, 1.0, 0.05, 3))
            editor = QDoubleSpinBox()
            editor.setRange(low, high)
            editor.setDecimals(decimals)
            editor.setSingleStep(step)
            editor.setValue(default)
            editor.valueChanged.connect(self.changed)
        else:
            editor = QComboBox()
            editor.setEditable(True)
            editor.addItems(CHOICES.get(key, [str(default)]))
            editor.setCurrentText(str(default))
            editor.currentTextChanged.connect(self.changed)
        return editor

    def _optional_editor(self, key: str) -> QWidget:
        kind, low, high, step = OPTIONAL[key]
        editor = QSpinBox() if kind == "int" else QDoubleSpinBox()
        # One step below the minimum means "not set": the source's default applies.
        editor.setRange(low - step, high)
        editor.setSingleStep(step)
        editor.setSpecialValueText("default")
        editor.setValue(low - step)
        editor.valueChanged.connect(self.changed)
        return editor

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, editor in self.editors.items():
            if isinstance(editor, QSpinBox | QDoubleSpinBox):
                if key in self.optional and editor.value() == editor.minimum():
                    continue
                out[key] = editor.value()
            elif isinstance(editor, QComboBox):
                text = editor.currentText().strip()
                out[key] = {"true": True, "false": False}.get(text, text)
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            editor = self.editors.get(key)
            if editor is None:
                continue
            editor.blockSignals(True)
            if isinstance(editor, QSpinBox | QDoubleSpinBox):
                editor.setValue(value)
            elif isinstance(editor, QComboBox):
                text = {True: "true", False: "false"}.get(value, str(value)) \
                    if isinstance(value, bool) else str(value)
                editor.setCurrentText(text)
            editor.blockSignals(False)
        self.changed.emit()
