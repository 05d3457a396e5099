"""A form for a dataset's or an architecture's options, built from their OptionSpecs.

Everything an editor knows comes from the spec (``cnnstudio.core.options``): ints are
spin boxes and floats decimal spin boxes over the spec's range, step and decimals;
bools and choices are combo boxes offering exactly the spec's values; text is a line
edit. An option whose spec has no default (a dataset's, left to its loader) shows
"default" until a value is set, and is then left out of ``values()``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from cnnstudio.core.options import OptionSpec

DEFAULT = "default"     # the text of an unset optional editor
BOOLS = {"true": True, "false": False}


class OptionsForm(QWidget):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.editors: dict[str, QWidget] = {}
        self.specs: dict[str, OptionSpec] = {}
        # Options the form does not show (a COCO file's path) pass through unchanged.
        self.hidden: dict[str, Any] = {}
        self._hidden_names: set[str] = set()

    def build(self, specs) -> None:
        while self.layout_.rowCount():
            self.layout_.removeRow(0)
        self.editors.clear()
        self.specs.clear()
        self.hidden.clear()
        self._hidden_names = {spec.name for spec in specs if spec.hidden}
        for spec in specs:
            if spec.hidden:
                continue
            editor = self._editor(spec)
            text = spec.help + (f" ({spec.unit})" if spec.unit else "")
            # Only the first letter: str.capitalize() would lower "D's", "G's", "RoI"…
            editor.setToolTip(text[:1].upper() + text[1:] + ".")
            editor.setObjectName(f"option_{spec.name}")
            self.editors[spec.name] = editor
            self.specs[spec.name] = spec
            self.layout_.addRow(spec.name.replace("_", " ") + ":", editor)

    def _editor(self, spec: OptionSpec) -> QWidget:
        optional = spec.default is None
        if spec.kind in ("int", "float"):
            editor = QSpinBox() if spec.kind == "int" else QDoubleSpinBox()
            step = spec.step or 1
            if spec.kind == "float":
                editor.setDecimals(spec.decimals)
            # One step below the minimum means "not set": the loader's default applies.
            low = spec.low - step if optional else spec.low
            editor.setRange(low, spec.high)
            editor.setSingleStep(step)
            if optional:
                editor.setSpecialValueText(DEFAULT)
            editor.setValue(low if optional else spec.default)
            editor.valueChanged.connect(self.changed)
            return editor
        if spec.kind == "text":
            editor = QLineEdit("" if optional else str(spec.default))
            editor.setPlaceholderText(DEFAULT)
            editor.textChanged.connect(self.changed)
            return editor
        editor = QComboBox()
        items = ["true", "false"] if spec.kind == "bool" else [str(c) for c in spec.choices]
        editor.addItems(([DEFAULT] if optional else []) + items)
        editor.setEditable(spec.editable)
        editor.setCurrentText(DEFAULT if optional else _text(spec.default))
        editor.currentTextChanged.connect(self.changed)
        return editor

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.hidden)
        for key, editor in self.editors.items():
            spec = self.specs[key]
            if isinstance(editor, QSpinBox | QDoubleSpinBox):
                if spec.default is None and editor.value() == editor.minimum():
                    continue
                out[key] = spec.coerce(editor.value())
            elif isinstance(editor, QLineEdit):
                if editor.text() or spec.default is not None:
                    out[key] = editor.text()
            else:
                text = editor.currentText().strip()
                if spec.default is None and text == DEFAULT:
                    continue
                out[key] = _value(spec, text)
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key in self._hidden_names:
                self.hidden[key] = value
            editor = self.editors.get(key)
            if editor is None:
                continue
            editor.blockSignals(True)
            if isinstance(editor, QSpinBox | QDoubleSpinBox):
                editor.setValue(value)
            elif isinstance(editor, QLineEdit):
                editor.setText(str(value))
            else:
                editor.setCurrentText(_text(value))
            editor.blockSignals(False)
        self.changed.emit()


def _text(value) -> str:
    return {True: "true", False: "false"}[value] if isinstance(value, bool) else str(value)


def _value(spec: OptionSpec, text: str):
    """A combo's text as the value the spec holds (the int 18 for ResNet's depth)."""
    if spec.kind == "bool":
        return BOOLS.get(text, text)
    by_text = {str(c): c for c in spec.choices}
    return by_text.get(text, text)
