"""The prediction dock of a CycleGAN run ("translate-cycle"): a dropped picture translated
both ways, each with its round trip.

    x → G(x) (as domain B) → F(G(x))        x → F(x) (as domain A) → G(F(x))

Only one direction means something for a given picture (a digit of domain A has no B
look to lose), but showing both lets the user see which way the run maps and that the
round trip gives the picture back.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel

from cnnstudio.core.families.generative.translation_inputs import domain_image
from cnnstudio.gui.families.generative.cycle_panel import domain_names
from cnnstudio.gui.families.generative.sketch_view import run_input_shape
from cnnstudio.gui.model_access import Answers, ModelAccess
from cnnstudio.gui.widgets.images import to_pixmap
from cnnstudio.gui.widgets.prediction_view import PredictionView

VIEW = 96
WELLS = ("input", "a2b", "a2b_back", "b2a", "b2a_back")


def both_ways(model, image: np.ndarray) -> dict[str, np.ndarray]:
    """Runs with the model: the image as A translated to B and back, and as B to A and back."""
    out = {"input": image}
    for direction in ("a2b", "b2a"):
        there, back = model.cycle(image[None], direction)
        out[direction], out[f"{direction}_back"] = there[0], back[0]
    return out


class CycleView(PredictionView):
    HINT = "Drop a picture: it is translated to the other domain and back, both ways."
    shown = Signal()

    def __init__(self, window=None, parent=None):
        super().__init__(window, parent)
        self.result: dict[str, np.ndarray] | None = None
        self.shape: tuple[int, int, int] | None = None
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)
        grid = QGridLayout()
        self.wells: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}
        places = {"input": (0, 0), "a2b": (0, 1), "a2b_back": (0, 2), "b2a": (2, 1),
                  "b2a_back": (2, 2)}
        for key in WELLS:
            row, col = places[key]
            well = QLabel(alignment=Qt.AlignCenter, objectName="imageWell")
            well.setFixedSize(VIEW, VIEW)
            caption = QLabel(wordWrap=True, alignment=Qt.AlignCenter)
            caption.setFixedWidth(VIEW + 8)
            grid.addWidget(well, row, col)
            grid.addWidget(caption, row + 1, col)
            self.wells[key], self.captions[key] = well, caption
        self.body.addLayout(grid)
        self._name_wells("A", "B")

    def _name_wells(self, a: str, b: str) -> None:
        titles = {"input": "As the model sees it", "a2b": f"G: as {b}",
                  "a2b_back": f"F(G(x)): back to {a}", "b2a": f"F: as {a}",
                  "b2a_back": f"G(F(x)): back to {b}"}
        for key, text in titles.items():
            self.captions[key].setText(text)

    def set_run_dir(self, path) -> None:
        super().set_run_dir(path)
        self.models.set_run(path)
        self.shape = run_input_shape(path) if path else None
        if path:
            self._name_wells(*domain_names(path))

    def predict_image(self, image: np.ndarray, name: str) -> None:
        image = self.checked(image, name)
        if image is None:
            return
        if self.run_dir is None or self.shape is None:
            self.show_error("No model yet: train a CycleGAN, or open a CycleGAN run.")
            return
        fitted, notes = domain_image(image, self.shape)
        self.hint.setText(f"Translating {name}" + (f" ({'; '.join(notes)})" if notes else "")
                          + "…")
        self.models.submit("cycle", lambda model: both_ways(model, fitted),
                           lambda out: self.show_result(out, name, notes), self.show_error)

    def show_result(self, out: dict, name: str, notes=()) -> None:
        self.result = out
        self.error.hide()
        for key in WELLS:
            self.wells[key].setPixmap(to_pixmap(out[key], VIEW - 4))
        errors = {d: float(np.mean(np.abs(out[f"{d}_back"].astype(np.float32)
                                          - out["input"].astype(np.float32))) / 255.0)
                  for d in ("a2b", "b2a")}
        self.hint.setText(f"{name}" + (f" ({'; '.join(notes)})" if notes else "") +
                          f": round-trip error {errors['a2b']:.3f} via G, "
                          f"{errors['b2a']:.3f} via F (mean |x − back|, 0..1).")
        self.shown.emit()

    def close_panel(self) -> None:
        self.models.close()
