"""Draw a shape scene to caption: up to three shapes, each a shape, colour, size and cell.

    drawer = SceneDrawer()
    drawer.set_objects([SceneObject("circle", "red", "large", 0, 1)])
    drawer.sceneDrawn → (uint8 image, the grammar's caption) when "Caption it" is pressed

The picture is drawn exactly as the dataset draws its scenes, and its true caption comes
from the same grammar, so the panel can put the model's caption beside the right one.
Two shapes on one cell: the later row is left out (and the hint says so).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from cnnstudio.core.families.attention import shape_scenes as scenes
from cnnstudio.gui.widgets.images import to_pixmap

CELLS = [f"{r} {c}" for r in ("top", "middle", "bottom") for c in ("left", "centre", "right")]
PREVIEW = 96


class SceneDrawer(QGroupBox):
    sceneDrawn = Signal(object, str)

    def __init__(self, parent=None):
        super().__init__("Draw a scene", parent)
        self.rows: list[dict] = []
        grid = QGridLayout()
        for i in range(scenes.MAX_OBJECTS):
            row = {"on": QCheckBox(), "shape": QComboBox(), "colour": QComboBox(),
                   "size": QComboBox(), "cell": QComboBox()}
            row["shape"].addItems(list(scenes.SHAPES))
            row["colour"].addItems(list(scenes.COLOURS))
            row["size"].addItems(list(scenes.SIZES))
            row["cell"].addItems(CELLS)
            for col, key in enumerate(("on", "shape", "colour", "size", "cell")):
                grid.addWidget(row[key], i, col)
                signal = row[key].toggled if key == "on" else row[key].currentIndexChanged
                signal.connect(self._redraw)
            self.rows.append(row)
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW + 4, PREVIEW + 4)
        self.hint = QLabel(wordWrap=True)
        self.hint.setObjectName("muted")
        self.random_button = QPushButton("Random")
        self.random_button.setToolTip("A new random scene, drawn as the dataset draws them")
        self.random_button.clicked.connect(self.randomise)
        self.caption_button = QPushButton("Caption it")
        self.caption_button.setToolTip("Ask the model to describe this scene")
        self.caption_button.clicked.connect(self.submit)
        buttons = QVBoxLayout()
        buttons.addWidget(self.random_button)
        buttons.addWidget(self.caption_button)
        buttons.addStretch(1)
        top = QHBoxLayout()
        top.addLayout(grid, 1)
        top.addWidget(self.preview)
        top.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        self._rng = np.random.default_rng(0)
        self.set_objects([scenes.SceneObject("circle", "red", "large", 0, 1),
                          scenes.SceneObject("square", "blue", "small", 2, 1)])

    def objects(self) -> list[scenes.SceneObject]:
        out, used = [], set()
        for row in self.rows:
            if not row["on"].isChecked():
                continue
            cell = row["cell"].currentIndex()
            if cell in used:
                continue
            used.add(cell)
            out.append(scenes.SceneObject(row["shape"].currentText(), row["colour"].currentText(),
                                          row["size"].currentText(), cell // scenes.GRID,
                                          cell % scenes.GRID))
        return out

    def set_objects(self, objects) -> None:
        objects = list(objects)[:scenes.MAX_OBJECTS]
        for i, row in enumerate(self.rows):
            for widget in row.values():
                widget.blockSignals(True)
            row["on"].setChecked(i < len(objects))
            if i < len(objects):
                obj = objects[i]
                row["shape"].setCurrentText(obj.shape)
                row["colour"].setCurrentText(obj.colour)
                row["size"].setCurrentText(obj.size)
                row["cell"].setCurrentIndex(obj.row * scenes.GRID + obj.col)
            for widget in row.values():
                widget.blockSignals(False)
        self._redraw()

    def randomise(self) -> None:
        self.set_objects(scenes.random_scene(self._rng))

    def scene(self) -> tuple[np.ndarray, str]:
        objects = self.objects()
        image = scenes.draw_scene(objects)
        return image, scenes.caption(objects) if objects else ""

    def _redraw(self, *_args) -> None:
        image, text = self.scene()
        self.preview.setPixmap(to_pixmap(image, PREVIEW))
        self.caption_button.setEnabled(bool(text))
        checked = sum(row["on"].isChecked() for row in self.rows)
        clash = " (two shapes on one cell: the later one is left out)" \
            if checked > len(self.objects()) else ""
        self.hint.setText((f"True caption: “{text}”" if text else "Tick at least one shape.")
                          + clash)

    def submit(self) -> None:
        image, text = self.scene()
        if text:
            self.sceneDrawn.emit(image, text)
