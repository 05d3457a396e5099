"""Architecture panel: pick a model, edit its options, and watch the layer table follow.

The summary builds the model for the dataset's input shape on the background
worker (Keras), so typing an option never blocks the window; an impossible
combination (a net too deep for 8×8 images) shows Keras's reason inline.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.config import ModelConfig
from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.gui.widgets.options_form import OptionsForm

HEADERS = ["Layer", "Type", "Output shape", "Parameters"]


def summarize(model_id: str, shape, classes: int, options: dict) -> list[dict]:
    """Build the model (background thread) and return its layer table."""
    from cnnstudio.core.architecture import layer_table

    model = ARCHITECTURES.get(model_id).build(tuple(shape), int(classes), options)
    return layer_table(model)


class ArchitecturePanel(QWidget):
    validity_changed = Signal()
    model_changed = Signal(str)      # the picked architecture (the window shows its family)

    def __init__(self, background, parent=None):
        super().__init__(parent)
        self.background = background
        self.shape: tuple | None = None
        self.classes: int | None = None
        self.problem: str | None = "checking the architecture…"
        self.problem_is_error = False
        self.rows: list[dict] = []
        self.combo = QComboBox()
        self.combo.setToolTip("The network to train; its layers are listed below.")
        for arch in ARCHITECTURES:
            self.combo.addItem(arch.name, arch.id)
        self.description = QLabel(wordWrap=True)
        self.options = OptionsForm()
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.NoSelection)
        self.table.setToolTip("Each layer's output shape (height × width × channels) and "
                              "trainable numbers, for the chosen dataset's image size.")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        self.total = QLabel()
        self.status = QLabel(wordWrap=True)
        self.status.setObjectName("error")
        layout = QVBoxLayout(self)
        layout.addWidget(self.combo)
        layout.addWidget(self.description)
        layout.addWidget(self.options)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.total)
        layout.addWidget(self.status)
        self.combo.currentIndexChanged.connect(self._model_changed)
        self.options.changed.connect(self.refresh)
        self._model_changed()

    @property
    def model_id(self) -> str:
        return self.combo.currentData()

    def model_config(self) -> ModelConfig:
        return ModelConfig(self.model_id, self.options.values())

    def set_config(self, config: ModelConfig) -> None:
        index = self.combo.findData(config.id)
        if index < 0:
            self._set_problem(ARCHITECTURES.unknown_message(config.id))
            return
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        self._build_form()
        self.options.set_values(config.options)

    def set_input(self, shape, classes) -> None:
        if (shape, classes) != (self.shape, self.classes):
            self.shape, self.classes = shape, classes
            self.refresh()

    def _model_changed(self) -> None:
        self._build_form()
        self.model_changed.emit(self.model_id)
        self.refresh()

    def _build_form(self) -> None:
        arch = ARCHITECTURES.get(self.model_id)
        self.description.setText(f"{arch.description}<br><i>{arch.source}</i>")
        self.options.blockSignals(True)
        self.options.build(arch.specs)
        self.options.blockSignals(False)

    def refresh(self) -> None:
        if self.shape is None or self.classes is None:
            self._set_problem("waiting for the dataset to know the input size…", error=False)
            return
        self._set_problem("building the layer table…", error=False)
        model_id, shape, classes, options = (self.model_id, self.shape, self.classes,
                                             self.options.values())
        self.background.submit(lambda: summarize(model_id, shape, classes, options),
                               self._show_rows, self._set_problem, key="summary")

    def _show_rows(self, rows: list[dict]) -> None:
        if self.shape is None:        # a late answer: the dataset went away meanwhile
            return
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            shape = " × ".join("?" if d is None else str(d) for d in row["output_shape"][1:])
            for j, text in enumerate((row["name"], row["type"], shape, f"{row['params']:,}")):
                item = QTableWidgetItem(text)
                if j == 3:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(i, j, item)
        h, w, c = self.shape
        self.total.setText(f"<b>Total: {sum(r['params'] for r in rows):,} parameters</b> "
                           f"for {w}×{h}×{c} inputs and {self.classes} classes")
        self.problem = None
        self.problem_is_error = False
        self.status.hide()
        self.validity_changed.emit()

    def _set_problem(self, text: str, error: bool = True) -> None:
        self.problem = text
        self.problem_is_error = error
        self.status.setText(("Cannot build: " if error else "") + text)
        self.status.setObjectName("error" if error else "muted")
        self.status.style().unpolish(self.status)   # the object name picks the colour
        self.status.style().polish(self.status)
        self.status.show()
        if error:
            self.rows = []
            self.table.setRowCount(0)
            self.total.setText("")
        self.validity_changed.emit()
