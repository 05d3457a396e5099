"""The prediction dock of a pix2pix run ("translate"): draw edges, see them translated.

- a drawing pad at the run's input size (pen, eraser, clear; right button erases);
  every stroke asks the model again — a newer stroke replaces a request still waiting,
  so the picture follows the pen without a queue building up;
- a dropped or pasted picture becomes the pad's picture first: a sketch as drawn, a photo
  turned into its edges with the dataset's own edge operator (translation_inputs.py), so
  you can keep drawing on it.

The model answers where it lives (ModelAccess): between batches during its run, else an
inference copy of the run's saved model on a worker thread.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
)

from cnnstudio.core.families.generative.translation_inputs import source_image
from cnnstudio.gui.model_access import Answers, ModelAccess
from cnnstudio.gui.widgets.drawing_pad import DrawingPad
from cnnstudio.gui.widgets.images import to_pixmap
from cnnstudio.gui.widgets.prediction_view import PredictionView

VIEW = 200
DEFAULT_SIDE = 64


def run_input_shape(run_dir) -> tuple[int, int, int] | None:
    """The run's input shape (dataset.json, written when it started)."""
    from cnnstudio.core.training.rundir import RunDir

    info = RunDir(run_dir).read_json("dataset.json", {}) or {}
    shape = info.get("input_shape")
    return tuple(int(s) for s in shape) if shape and len(shape) == 3 else None


class SketchView(PredictionView):
    HINT = "Draw edges on the pad, or drop a picture: the model paints what they outline."
    shown = Signal()                  # a translation reached the screen (tests, benchmarks)

    def __init__(self, window=None, parent=None):
        super().__init__(window, parent)
        self.output: np.ndarray | None = None
        self.last_ms: float | None = None
        self._asked = 0.0
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)
        self.pad = DrawingPad(DEFAULT_SIDE)
        self.pad.changed.connect(self.translate)
        self.pen = QToolButton(text="Pen", checkable=True, checked=True)
        self.eraser = QToolButton(text="Eraser", checkable=True)
        tools = QButtonGroup(self)
        for button in (self.pen, self.eraser):
            tools.addButton(button)
        self.pen.toggled.connect(lambda on: self.pad.set_tool("pen" if on else "eraser"))
        self.width_box = QSpinBox(minimum=1, maximum=8, value=2, prefix="width ", suffix=" px")
        self.width_box.setToolTip("Pen width in the model's pixels (the training edges are 2 px wide)")
        self.width_box.valueChanged.connect(lambda w: setattr(self.pad, "pen_width", w))
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.pad.clear)
        bar = QHBoxLayout()
        for widget in (self.pen, self.eraser, self.width_box, self.clear_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        self.out_well = QLabel(alignment=Qt.AlignCenter, objectName="imageWell")
        self.out_well.setMinimumSize(140, 140)
        self.out_well.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.pad_caption = QLabel("Your edges", alignment=Qt.AlignCenter)
        self.out_caption = QLabel("Translation", alignment=Qt.AlignCenter, wordWrap=True)
        grid = QGridLayout()
        grid.addWidget(self.pad, 0, 0)
        grid.addWidget(self.out_well, 0, 1)
        grid.addWidget(self.pad_caption, 1, 0)
        grid.addWidget(self.out_caption, 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self.body.addLayout(bar)
        self.body.addLayout(grid)

    # -- the registry's hooks -------------------------------------------------------------
    def set_run_dir(self, path) -> None:
        super().set_run_dir(path)
        self.models.set_run(path)
        shape = run_input_shape(path) if path else None
        if shape is not None and shape[0] != self.pad.side:
            self.pad.set_side(shape[0])
        self.pad_caption.setText(f"Your edges ({self.pad.side}×{self.pad.side})")

    def predict_image(self, image: np.ndarray, name: str) -> None:
        image = self.checked(image, name)
        if image is None:
            return
        from cnnstudio.core.families.generative.translation_data import edges_of

        side = self.pad.side
        edges, notes = source_image(image, (side, side, 1), edges_of)
        self.hint.setText(f"{name}: " + ("; ".join(notes) if notes else "used as drawn")
                          + ". Draw on it to change it.")
        self.pad.set_image(edges)          # → changed → translate

    # -- the model ---------------------------------------------------------------------
    def translate(self, edges: np.ndarray) -> None:
        if self.run_dir is None:
            self.show_error("No model yet: train a pix2pix model, or open a pix2pix run.")
            return
        self._asked = time.perf_counter()
        batch = edges[None]
        self.models.submit("translate", lambda model: model.translate(batch)[0],
                           self.show_output, self.show_error)

    def show_output(self, image: np.ndarray) -> None:
        self.last_ms = 1000.0 * (time.perf_counter() - self._asked)
        self.output = image
        self.error.hide()
        side = min(self.pad.width(), self.pad.height())      # as large as the drawing
        self.out_well.setPixmap(to_pixmap(image, max(64, side)))
        self.out_caption.setText(f"Translation ({self.last_ms:.0f} ms)")
        self.shown.emit()

    def sketch_demo(self) -> None:
        """A small house drawn stroke by stroke, as a hand would (screenshot mode)."""
        s = self.pad.side / 64.0
        walls = [(16, 56), (16, 30), (48, 30), (48, 56), (16, 56)]
        roof = [(12, 32), (32, 10), (52, 32)]
        door = [(28, 56), (28, 42), (36, 42), (36, 56)]
        for stroke in (walls, roof, door):
            self.pad.stroke([(x * s, y * s) for x, y in stroke], erase=False)
        self.hint.setText("A sketch drawn on the pad, translated as it was drawn.")

    def close_panel(self) -> None:
        self.models.close()
