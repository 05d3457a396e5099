"""What every family's prediction view shares: a hint line, where the answer came from, an
error line, and dropped or opened files read into images (one clear line on a bad file).

A view builds its own body between the hint and the source line, and implements
``predict_image(image, name)``; ``checked`` gives it the image in the model-ready form or
shows why not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from cnnstudio.core.errors import StudioError
from cnnstudio.core.imaging import normalize_array, read_image


class FileDrops:
    """A widget that takes one dropped image file: ``drop_file(path)`` gets the first local
    file of the drop (call ``setAcceptDrops(True)`` on the widget)."""

    def drop_file(self, path) -> None:
        raise NotImplementedError

    def dragEnterEvent(self, event):    # noqa: N802 (Qt's name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):          # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.drop_file(paths[0])
        event.acceptProposedAction()


class PredictionView(FileDrops, QWidget):
    HINT = "Drop an image file here."           # each view says what it does with one

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.setAcceptDrops(True)
        self.hint = QLabel(self.HINT, wordWrap=True)
        self.source = QLabel("Model: none yet — train one, or open a run.", wordWrap=True)
        self.source.setObjectName("muted")
        self.error = QLabel(wordWrap=True)
        self.error.setObjectName("error")
        self.error.hide()
        self.body = QVBoxLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addLayout(self.body)
        layout.addWidget(self.source)
        layout.addWidget(self.error)
        layout.addStretch(1)

    # -- the registry's hooks -------------------------------------------------------
    def set_run_dir(self, path) -> None:
        self.run_dir = Path(path) if path else None
        self.source.setText(f"Model: run {self.run_dir.name if self.run_dir else 'none'}")

    def run_started(self, event) -> None:
        self.set_run_dir(event.run_dir)

    def predict_image(self, image: np.ndarray, name: str) -> None:
        raise NotImplementedError

    # -- input --------------------------------------------------------------------
    def checked(self, image, name: str) -> np.ndarray | None:
        """The image as a model-ready uint8 array, or None after saying why not."""
        try:
            image = normalize_array(image, name=name)
        except StudioError as exc:
            self.show_error(str(exc))
            return None
        self.error.hide()
        return image

    def predict_file(self, path) -> None:
        try:
            image = read_image(path)
        except StudioError as exc:
            self.show_error(str(exc))
            return
        self.predict_image(image, Path(path).name)

    def drop_file(self, path) -> None:
        self.predict_file(path)

    def show_error(self, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.error.setText(text)
        self.error.show()
        self.hint.setText(self.HINT)
