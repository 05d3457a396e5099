"""The prediction dock for a RAM run ("glimpse"): drop an image and watch the model look.

The picture is placed on the canvas as training placed digits (any size; a canvas-sized
picture is used as it is), then the trained network takes its glimpses: the scanpath,
step by step with a slider, and its answer after each glimpse.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from cnnstudio.gui.families.attention.glimpse_panel import sensor_options
from cnnstudio.gui.families.attention.scanpath_view import ScanpathView
from cnnstudio.gui.model_access import Answers, ModelAccess


class GlimpsePredictionView(QWidget):
    looked = Signal()

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.result: dict | None = None
        self.info: dict = {}
        self.sensor = {"patch": 12, "scales": 3, "ratio": 2}
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)
        self.view = ScanpathView("Where it looks", min_side=180)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setPageStep(1)
        self.slider.setRange(1, 1)
        self.slider.valueChanged.connect(lambda _: self._draw())
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Glimpse"))
        bar.addWidget(self.slider, 1)
        self.text = QLabel("Drop an image: the model looks at it, glimpse by glimpse.")
        self.text.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(bar)
        layout.addWidget(self.text)

    # -- the registry's hooks ---------------------------------------------------------------
    @property
    def run_dir(self):
        """The run whose model answers (the window's subject)."""
        return self.models.run_dir

    def set_run_dir(self, path) -> None:
        self.models.set_run(path)
        self.info = {}
        if path:
            from cnnstudio.core.training.rundir import RunDir

            self.info = RunDir(path).read_json("dataset.json", {}) or {}
            self.sensor = sensor_options(path)

    def run_started(self, event) -> None:
        self.set_run_dir(event.run_dir)

    def predict_image(self, image, name: str = "") -> None:
        image, info = np.asarray(image), self.info

        def look(model):
            from cnnstudio.core.families.attention.ram_predict import look_at

            return look_at(model, image, info)

        self.text.setText(f"The model is looking at {name or 'the image'}…")
        self.models.submit("look", look, lambda r: self._looked(r, name), self._failed)

    def close_panel(self) -> None:
        self.models.close()

    # -- answers ---------------------------------------------------------------------------
    def _looked(self, result: dict, name: str) -> None:
        self.result = result
        self.slider.blockSignals(True)
        self.slider.setRange(1, len(result["locations"]))
        self.slider.setValue(len(result["locations"]))
        self.slider.blockSignals(False)
        self._draw(name)
        self.looked.emit()

    def _draw(self, name: str = "") -> None:
        r = self.result
        if r is None:
            return
        step = self.slider.value()
        probs = r["probabilities"][step - 1]
        best = int(np.argmax(probs))
        names = r["class_names"]
        label = names[best] if best < len(names) else str(best)
        self.view.show_trace(r["image"], r["locations"], step=step, **self.sensor,
                             title=f"After glimpse {step}: {label} ({probs[best]:.0%})",
                             caption="; ".join(s.split(":")[0] for s in r["adapted"]))
        final = f"<b>{r['class']}</b> ({r['probability']:.1%})"
        fixes = "  ".join(f"{i}: ({y}, {x})" for i, (y, x) in enumerate(r["fixations"], 1))
        self.text.setText(f"{name or 'Image'}: answer {final} · fixations (row, column): "
                          f"{fixes}")

    def _failed(self, error) -> None:
        self.text.setText(f"Could not use the model: {error}")
