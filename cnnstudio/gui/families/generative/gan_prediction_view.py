"""The prediction dock for a GAN run ("discriminate"): fresh samples and D's verdict.

- "Generate" with a seed: 64 new samples (8 × 8), the same for the same seed;
- a dropped image: D's probability that it is real; for a discriminator with class logits
  (the semi-supervised GAN's ``classify``) also the class it sees.

The model is used where it lives: between batches during its run, else an inference copy
loaded from the run directory (ModelAccess, shared with the GAN console).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from cnnstudio.core.families.generative import gan_probes as gp
from cnnstudio.gui.families.generative.gan_console import GREY, mosaic_of
from cnnstudio.gui.model_access import Answers, ModelAccess
from cnnstudio.gui.widgets.mosaic import MosaicView


def _verdict(model, image: np.ndarray) -> dict:
    """Runs with the model: realness, and the class when D has class logits."""
    out = {"real": float(gp.realness(model, [image])[0])}
    probs = gp.class_probabilities(model, [image])
    if probs is not None:
        out["class"], out["class_prob"] = int(np.argmax(probs[0])), float(np.max(probs[0]))
    return out


class GanPredictionView(QWidget):
    generated = Signal()
    judged = Signal()

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.samples: np.ndarray | None = None
        self.verdict: dict | None = None
        self.class_names: list[str] = []
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2 ** 31 - 1)
        self.seed.setPrefix("seed ")
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("64 fresh samples from G; the same seed draws the "
                                        "same samples")
        self.generate_button.clicked.connect(self.generate)
        bar = QHBoxLayout()
        bar.addWidget(self.generate_button)
        bar.addWidget(self.seed)
        bar.addStretch(1)
        self.view = MosaicView("Samples", min_side=160)
        self.result = QLabel("Drop an image: the discriminator says how real it looks.")
        self.result.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.result)

    # -- the registry's hooks ---------------------------------------------------------------
    @property
    def run_dir(self):
        """The run whose model answers (the window's subject)."""
        return self.models.run_dir

    def set_run_dir(self, path) -> None:
        self.models.set_run(path)
        self.class_names = []
        if path:
            from cnnstudio.core.training.rundir import RunDir

            info = RunDir(path).read_json("dataset.json", {}) or {}
            self.class_names = [str(c) for c in info.get("class_names") or []]

    def run_started(self, event) -> None:
        self.set_run_dir(event.run_dir)

    def predict_image(self, image, name: str = "") -> None:
        image = np.asarray(image)
        self.result.setText(f"Asking the discriminator about {name or 'the image'}…")
        self.models.submit("judge", lambda model: _verdict(model, image),
                           lambda verdict: self._judged(verdict, name), self._failed)

    def generate(self) -> None:
        seed = self.seed.value()
        self.result.setText(f"Generating 64 samples (seed {seed})…")
        self.models.submit("generate", lambda model: gp.generate(model, 64, seed),
                           lambda images: self._generated(images, seed), self._failed)

    def close_panel(self) -> None:
        self.models.close()

    # -- answers ---------------------------------------------------------------------------
    def _generated(self, images: np.ndarray, seed: int) -> None:
        self.samples = images
        self.view.show_mosaic(mosaic_of(images, gp.GRID), GREY, f"64 samples · seed {seed}")
        self.result.setText("Fresh samples from the generator. Drop an image to hear what "
                            "the discriminator makes of it.")
        self.generated.emit()

    def _judged(self, verdict: dict, name: str) -> None:
        self.verdict = verdict
        text = f"<b>{name or 'Image'}</b>: D says real with probability {verdict['real']:.1%}"
        if "class" in verdict:
            c = verdict["class"]
            label = self.class_names[c] if c < len(self.class_names) else str(c)
            text += f"; class <b>{label}</b> ({verdict['class_prob']:.1%})"
        self.result.setText(text)
        self.judged.emit()

    def _failed(self, error) -> None:
        self.result.setText(f"Could not use the model: {error}")
