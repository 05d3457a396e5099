"""The prediction dock: drop, paste or pick an image, and the current run's family says what
it makes of it.

What is done with the image follows the run's task profile: its ``prediction`` word
("classify", "reconstruct", "discriminate", "detect", …) names a view that the family
registered (``cnnstudio.gui.registry``), shown below the buttons. The dock itself only
reads images (one clear line on a bad file) and hands them over.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import StudioError
from cnnstudio.core.imaging import normalize_array, read_image_noted

HINT = ("Drop an image file here, paste one (Ctrl+V), or click a dataset sample and choose "
        "“Predict this image”.")


class PredictionPanel(QWidget):
    shown = Signal()                     # a view's answer reached the screen (tests, benchmarks)
    image_chosen = Signal(object, str)   # an image to predict (→ feature maps, Grad-CAM, …)
    noted = Signal(str)                  # e.g. a huge file was downscaled as it was read

    def __init__(self, background, bridge, parent=None, window=None):
        super().__init__(parent)
        self.background, self.bridge, self.window = background, bridge, window
        self.kind: str | None = None
        self.views: dict[str, QWidget] = {}        # prediction kind → its family's view
        self.run_dir: Path | None = None
        self.asked_at = 0.0                         # perf_counter of the last request
        self.setAcceptDrops(True)
        self.hint = QLabel(HINT, wordWrap=True)
        self.open_button = QPushButton("Open image…")
        self.open_button.setToolTip("Pick an image file for the model.")
        self.open_button.clicked.connect(self._ask_file)
        self.paste_button = QPushButton("Paste")
        self.paste_button.setToolTip("Give the model the image on the clipboard (Ctrl+V).")
        self.paste_button.clicked.connect(self.paste)
        self.buttons = QHBoxLayout()
        self.buttons.addWidget(self.open_button)
        self.buttons.addWidget(self.paste_button)
        self.buttons.addStretch(1)
        self.stack = QStackedWidget()
        self.error = QLabel(wordWrap=True)
        self.error.setObjectName("error")
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addLayout(self.buttons)
        layout.addWidget(self.stack)
        layout.addWidget(self.error)
        layout.addStretch(1)

    @property
    def view(self):
        """The view of the current kind (built on first use)."""
        return self.view_for(self.kind) if self.kind else None

    def set_run_dir(self, path) -> None:
        self.run_dir = Path(path) if path else None
        if self.kind:
            self.view.set_run_dir(self.run_dir)

    def set_kind(self, kind: str) -> None:
        """What a dropped image is for: the task profile's ``prediction`` word."""
        if kind == self.kind:
            return
        self.kind = kind
        view = self.view_for(kind)
        self.stack.setCurrentWidget(view)
        # A view's own switches (the classifier's "Adapt photos") sit beside the buttons.
        for other in self.views.values():
            for widget in getattr(other, "toolbar", ()):
                widget.setVisible(other is view)
        view.set_run_dir(self.run_dir)

    def close_views(self) -> None:
        from cnnstudio.gui.registry import call

        for view in self.views.values():
            call(view, "close_panel")

    def view_for(self, kind: str):
        if kind not in self.views:
            from cnnstudio.gui.registry import PREDICTION_VIEWS

            view = PREDICTION_VIEWS.get(kind)(self.window)
            if hasattr(view, "shown") and isinstance(getattr(type(view), "shown", None), Signal):
                view.shown.connect(self.shown)
            self.views[kind] = view
            self.stack.addWidget(view)
            for widget in getattr(view, "toolbar", ()):
                self.buttons.addWidget(widget)
                widget.hide()
        return self.views[kind]

    # -- input -------------------------------------------------------------
    def dragEnterEvent(self, event):    # noqa: N802 (Qt's name)
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event):          # noqa: N802
        mime = event.mimeData()
        if mime.hasUrls():
            paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            if paths:
                self.predict_file(paths[0])
        elif mime.hasImage():
            self.predict_qimage(mime.imageData(), "dropped image")
        event.acceptProposedAction()

    def _ask_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Image for the model", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.ppm *.pgm "
                                              "*.tif *.tiff *.webp);;All files (*)")
        if path:
            self.predict_file(path)

    def paste(self) -> None:
        clipboard = QGuiApplication.clipboard()
        mime = clipboard.mimeData()
        if mime is not None and mime.hasUrls():
            paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            if paths:
                self.predict_file(paths[0])
                return
        image = clipboard.image()
        if image.isNull():
            self.show_error("The clipboard holds no image.")
            return
        self.predict_qimage(image, "pasted image")

    def predict_qimage(self, qimage, name: str) -> None:
        qimage = qimage.convertToFormat(qimage.Format.Format_RGB888)
        w, h, stride = qimage.width(), qimage.height(), qimage.bytesPerLine()
        raw = np.frombuffer(qimage.constBits(), np.uint8, count=stride * h).reshape(h, stride)
        self.predict_image(raw[:, :3 * w].reshape(h, w, 3).copy(), name)

    def predict_file(self, path) -> None:
        started = time.perf_counter()
        try:
            # Small files: fast enough for the GUI thread; a huge one is decoded downscaled
            # (bounded memory) and the note says so.
            image, downscaled = read_image_noted(path)
        except StudioError as exc:
            self.show_error(str(exc))
            return
        if downscaled is not None:
            self.noted.emit(downscaled.note)
        self.predict_image(image, Path(path).name, started=started)

    def predict_image(self, image: np.ndarray, name: str, started: float | None = None) -> None:
        # When the user asked (a file's read included): a view that reports its latency
        # measures from here.
        self.asked_at = started or time.perf_counter()
        try:
            image = normalize_array(image, name=name)
        except StudioError as exc:
            self.show_error(str(exc))
            return
        self.error.hide()
        self.image_chosen.emit(image, name)
        view = self.view
        if view is None:
            self.show_error("No model yet: pick one, or open a run in the Runs panel.")
            return
        view.predict_image(image, name)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.hint.setText(HINT)
