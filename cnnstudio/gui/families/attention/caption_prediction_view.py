"""The prediction dock for a captioning run ("caption"): drop an image, read its caption.

The image is fitted to the model's 64×64 colour input as the dataset draws its scenes;
the caption appears with each word's soft map and hard cell (the captions tab's word
strip). The model is used where it lives (``ModelAccess``): between batches of its live
run, else an inference copy loaded from the run directory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.attention import caption_probes
from cnnstudio.core.imaging import normalize_array, read_image
from cnnstudio.gui.families.attention.captions_panel import DECODING
from cnnstudio.gui.families.attention.word_strip import WordStrip
from cnnstudio.gui.families.generative.gan_console import ModelAccess
from cnnstudio.gui.families.registry import register_prediction_view
from cnnstudio.gui.panels.insight_widgets import Answers


class CaptionPredictionView(QWidget):
    captioned = Signal()

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.result: dict | None = None
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)
        self.setAcceptDrops(True)
        self.hint = QLabel("Drop an image: the captioner describes it, word by word.",
                           wordWrap=True)
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
        self.source = QLabel("Model: none yet — train one, or open a run.", wordWrap=True)
        self.source.setObjectName("muted")
        self.error = QLabel(wordWrap=True)
        self.error.setObjectName("error")
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addLayout(bar)
        layout.addWidget(self.caption)
        layout.addWidget(self.strip)
        layout.addWidget(self.source)
        layout.addWidget(self.error)
        layout.addStretch(1)

    # -- the registry's hooks -------------------------------------------------------
    def set_run_dir(self, path) -> None:
        self.models.set_run(path)
        self.source.setText(f"Model: run {Path(path).name if path else 'none'}")

    def run_started(self, event) -> None:
        self.set_run_dir(event.run_dir)

    def predict_image(self, image: np.ndarray, name: str) -> None:
        try:
            image = normalize_array(image, name=name)
        except StudioError as exc:
            self.show_error(str(exc))
            return
        self.error.hide()
        beam = int(self.decoding.currentData())
        self.hint.setText(f"Captioning {name}…")
        self.models.submit("caption", lambda model: caption_probes.caption_one(model, image, beam),
                           lambda out: self.show_result(out, name), self.show_error)

    def predict_file(self, path) -> None:
        try:
            image = read_image(path)
        except StudioError as exc:
            self.show_error(str(exc))
            return
        self.predict_image(image, Path(path).name)

    def dragEnterEvent(self, event):    # noqa: N802 (Qt's name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):          # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.predict_file(paths[0])
        event.acceptProposedAction()

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

    def show_error(self, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.error.setText(text)
        self.error.show()
        self.hint.setText("Drop an image file here to caption it.")


register_prediction_view("caption", CaptionPredictionView)
