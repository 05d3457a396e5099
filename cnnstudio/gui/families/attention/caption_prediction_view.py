"""The prediction dock for a captioning run ("caption"): drop an image, read its caption.

The image is fitted to the model's 64×64 colour input as the dataset draws its scenes;
the caption appears with each word's soft map and hard cell (the captions tab's word
strip). The model is used where it lives (``ModelAccess``): between batches of its live
run, else an inference copy loaded from the run directory.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel

from cnnstudio.core.families.attention import caption_probes
from cnnstudio.gui.families.attention.captions_panel import DECODING
from cnnstudio.gui.families.attention.word_strip import WordStrip
from cnnstudio.gui.model_access import Answers, ModelAccess
from cnnstudio.gui.widgets.prediction_view import PredictionView


class CaptionPredictionView(PredictionView):
    HINT = "Drop an image file here to caption it."
    captioned = Signal()

    def __init__(self, window=None, parent=None):
        super().__init__(window, parent)
        self.result: dict | None = None
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)
        self.hint.setText("Drop an image: the captioner describes it, word by word.")
        self.decoding = QComboBox()
        for name, beam in DECODING:
            self.decoding.addItem(name, beam)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Decoding"))
        bar.addWidget(self.decoding)
        bar.addStretch(1)
        self.caption = QLabel(wordWrap=True)
        self.caption.setObjectName("caption")
        self.strip = WordStrip(side=56)
        self.body.addLayout(bar)
        self.body.addWidget(self.caption)
        self.body.addWidget(self.strip)

    # -- the registry's hooks -------------------------------------------------------
    def set_run_dir(self, path) -> None:
        super().set_run_dir(path)
        self.models.set_run(path)

    def predict_image(self, image: np.ndarray, name: str) -> None:
        image = self.checked(image, name)
        if image is None:
            return
        beam = int(self.decoding.currentData())
        self.hint.setText(f"Captioning {name}…")
        self.models.submit("caption", lambda model: caption_probes.caption_one(model, image, beam),
                           lambda out: self.show_result(out, name), self.show_error)

    # -- answers ---------------------------------------------------------------------
    def show_result(self, out: dict, name: str) -> None:
        self.result = out
        self.caption.setText(f"<b>{out['caption'] or '(no words)'}</b><br>"
                             f"<span>hard attention: {out['hard_caption'] or '(no words)'}</span>")
        self.strip.show_caption(out["image"], out["caption"].split(), out["alphas"])
        beam = out["beam"]
        how = "greedily" if beam == 1 else f"with a beam of {beam}"
        self.hint.setText(f"{name}, as the model sees it (64×64), captioned {how}.")
        self.captioned.emit()
