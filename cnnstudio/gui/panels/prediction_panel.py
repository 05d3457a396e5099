"""Prediction panel: drop, paste or pick an image; see it as the model does, and the top 5.

Where the answer comes from:
- a run is training → the request is queued to the run's thread and served
  between batches (``RunBridge.submit``), never touching the model from here;
- otherwise → a Predictor loaded from the selected run directory, on the
  background worker (the same code path as ``cnnstudio predict``).

What is done with the image follows the run's task profile: "classify" is this
panel's own top 5; any other kind ("reconstruct", "discriminate", …) is a view
that its family registered (gui/families/registry.py), shown in place of the bars.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import StudioError
from cnnstudio.core.imaging import normalize_array, read_image
from cnnstudio.gui.widgets.images import to_pixmap
from cnnstudio.gui.widgets.top_bars import TopBars

VIEW = 150


def _live_top5(model, image: np.ndarray, dataset_info: dict, adapt_photos: bool):
    """Runs on the training thread, between batches."""
    from cnnstudio.core.predict import Predictor

    predictor = Predictor.for_model(model, dataset_info)
    predictor.adapt_photos = adapt_photos
    return _answer(predictor, image)


def _answer(predictor, image: np.ndarray):
    prepared, steps = predictor.prepare_explained(image)
    return prepared, predictor.top_k(image, 5), steps


class PredictionPanel(QWidget):
    shown = Signal()                     # a top-5 reached the screen (tests, benchmarks)
    image_chosen = Signal(object, str)   # an image to classify (→ feature maps, Grad-CAM)

    def __init__(self, background, bridge, parent=None, window=None):
        super().__init__(parent)
        self.background, self.bridge, self.window = background, bridge, window
        self.kind = "classify"
        self.views: dict[str, QWidget] = {}        # prediction kind → its family's view
        self.run_dir: Path | None = None
        self.imagenet_base: str | None = None
        self._predictors: dict[tuple, object] = {}
        self._asked_at = 0.0
        self.last_latency_ms = 0.0
        self.setAcceptDrops(True)
        self.hint = QLabel("Drop an image file here, paste one (Ctrl+V), or click a dataset "
                           "sample and choose “Predict this image”.", wordWrap=True)
        self.open_button = QPushButton("Open image…")
        self.open_button.setToolTip("Pick an image file to classify.")
        self.open_button.clicked.connect(self._ask_file)
        self.paste_button = QPushButton("Paste")
        self.paste_button.setToolTip("Classify the image on the clipboard (Ctrl+V).")
        self.paste_button.clicked.connect(self.paste)
        self.adapt_box = QCheckBox("Adapt photos")
        self.adapt_box.setChecked(True)
        self.adapt_box.setToolTip(
            "Bring a photo to the training images' form first: even out the lighting, invert "
            "dark ink on light paper for a model trained on light-on-dark digits, stretch the "
            "contrast, and crop and centre the content as MNIST does. Decided from the "
            "training set's own statistics (the run's dataset.json); natural-image datasets "
            "are only resized.")
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.paste_button)
        buttons.addStretch(1)
        buttons.addWidget(self.adapt_box)
        self.imagenet_box = QCheckBox("ImageNet top-5 too")
        self.imagenet_box.setToolTip(
            "A transfer run over ImageNet weights: also show what its pretrained base, with its "
            "original 1,000-class head, sees in the image (chapter 4's VGG16 demo). The full "
            "classifier's weights download once and stay loaded.")
        self.imagenet_box.hide()
        self.imagenet_title = QLabel(wordWrap=True)
        self.imagenet_title.setObjectName("muted")
        self.imagenet_bars = TopBars()
        for widget in (self.imagenet_title, self.imagenet_bars):
            widget.hide()
        self.view = QLabel()
        self.view.setFixedSize(VIEW, VIEW)
        self.view.setAlignment(Qt.AlignCenter)
        self.view.setObjectName("imageWell")
        self.view.setToolTip("The image after preprocessing: resized and converted to the "
                             "model's input size and channels.")
        self.view_caption = QLabel("As the model sees it", wordWrap=True)
        self.view_caption.setAlignment(Qt.AlignCenter)
        self.view_caption.setFixedWidth(VIEW)
        left = QVBoxLayout()
        left.setSpacing(2)
        left.addWidget(self.view)
        left.addWidget(self.view_caption)
        left.addStretch(1)
        self.bars = TopBars()
        row = QHBoxLayout()
        row.addLayout(left)
        row.addWidget(self.bars, 1)
        self.classify_view = QWidget()
        self.classify_view.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.classify_view)
        self.source = QLabel("Model: none yet — train one, or open a run.", wordWrap=True)
        self.source.setObjectName("muted")
        self.error = QLabel(wordWrap=True)
        self.error.setObjectName("error")
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        layout.addWidget(self.stack)
        layout.addWidget(self.imagenet_box)
        layout.addWidget(self.imagenet_title)
        layout.addWidget(self.imagenet_bars)
        layout.addWidget(self.source)
        layout.addWidget(self.error)
        layout.addStretch(1)

    def set_run_dir(self, path) -> None:
        self.run_dir = Path(path) if path else None
        name = self.run_dir.name if self.run_dir else "none"
        self.source.setText(f"Model: run {name}")
        self.imagenet_base = _imagenet_base(self.run_dir)
        self.imagenet_box.setVisible(self.imagenet_base is not None)
        self.imagenet_title.hide()
        self.imagenet_bars.hide()
        if self.kind != "classify":
            self.view_for(self.kind).set_run_dir(self.run_dir)

    def set_kind(self, kind: str) -> None:
        """What a dropped image is for: the task profile's ``prediction`` word."""
        if kind == self.kind:
            return
        self.kind = kind
        classify = kind == "classify"
        # The family's view says where its answer came from and has its own options.
        for widget in (self.source, self.adapt_box):
            widget.setVisible(classify)
        if classify:
            self.stack.setCurrentWidget(self.classify_view)
            return
        view = self.view_for(kind)
        self.stack.setCurrentWidget(view)
        view.set_run_dir(self.run_dir)

    def view_for(self, kind: str):
        if kind not in self.views:
            from cnnstudio.gui.families.registry import PREDICTION_VIEWS

            view = PREDICTION_VIEWS.get(kind)(self.window)
            self.views[kind] = view
            self.stack.addWidget(view)
        return self.views[kind]

    # -- input -------------------------------------------------------------
    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event):
        mime = event.mimeData()
        if mime.hasUrls():
            paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            if paths:
                self.predict_file(paths[0])
        elif mime.hasImage():
            self.predict_qimage(mime.imageData(), "dropped image")
        event.acceptProposedAction()

    def _ask_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Image to classify", "",
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
        self._asked_at = time.perf_counter()
        try:
            image = read_image(path)     # small files: fast enough for the GUI thread
        except StudioError as exc:
            self.show_error(str(exc))
            return
        self.predict_image(image, Path(path).name, started=self._asked_at)

    # -- prediction --------------------------------------------------------
    def predict_image(self, image: np.ndarray, name: str, started: float | None = None) -> None:
        self._asked_at = started or time.perf_counter()
        try:
            image = normalize_array(image, name=name)
        except StudioError as exc:
            self.show_error(str(exc))
            return
        self.error.hide()
        self.image_chosen.emit(image, name)
        if self.kind != "classify":
            self.view_for(self.kind).predict_image(image, name)
            return
        self.hint.setText(f"Classifying {name}…")
        adapt = self.adapt_box.isChecked()
        if self.bridge.running and self.bridge.run_dir is not None:
            info = _dataset_info(self.bridge.run_dir)
            if self.bridge.submit(lambda model: _live_top5(model, image, info, adapt),
                                  lambda future: self._live_answer(future, name)):
                self.source.setText(f"Model: the run training now ({self.bridge.run_dir.name}),"
                                    " answered between batches")
                return
        if self.run_dir is None:
            self.show_error("No model yet: train one, or open a run in the Runs panel.")
            return
        run_dir = self.run_dir
        imagenet = self.imagenet_box.isVisible() and self.imagenet_box.isChecked()
        self.background.submit(lambda: self._predict_from_run(run_dir, image, adapt, imagenet),
                               lambda result: self._show(*result[:3], name, *result[3:]),
                               self.show_error,
                               key="predict")

    def _predict_from_run(self, run_dir: Path, image, adapt: bool,
                          imagenet: bool = False):     # background thread
        from cnnstudio.core.predict import Predictor
        from cnnstudio.core.training.rundir import RunDir

        model_path = RunDir.open(run_dir).model_path()
        if model_path is None:
            raise StudioError(f"run {run_dir.name} has no trained model yet")
        key = (str(model_path), model_path.stat().st_mtime_ns)
        predictor = self._predictors.get(key)
        if predictor is None:
            predictor = Predictor.from_run(run_dir)
            self._predictors = {key: predictor}      # keep one: models can be large
        predictor.adapt_photos = adapt
        answer = _answer(predictor, image)
        if not imagenet or predictor.imagenet_base is None:
            return answer
        try:       # the Predictor keeps the ImageNet classifier: built once, not per image
            return (*answer, predictor.imagenet_top5(image), predictor.imagenet_base)
        except StudioError as exc:           # offline: the message names the file and URL
            return (*answer, None, str(exc))

    def _live_answer(self, future, name: str) -> None:
        try:
            prepared, rows, steps = future.result()
        except Exception as exc:       # the run ended first, or the image did not fit
            if self.run_dir is not None and not self.bridge.running:
                self.source.setText(f"Model: run {self.run_dir.name}")
            self.show_error(f"Prediction failed: {exc}")
            return
        self._show(prepared, rows, steps, name)

    def _show(self, prepared: np.ndarray, rows, steps, name: str, imagenet=None,
              note: str | None = None) -> None:
        self.imagenet_title.setVisible(note is not None)
        self.imagenet_bars.setVisible(imagenet is not None)
        if imagenet is not None:
            self.imagenet_bars.set_rows(imagenet)
            self.imagenet_title.setText(f"ImageNet top-5: the {note.upper()} base with its own "
                                        "1,000-class head")
        elif note is not None:
            self.imagenet_title.setText(note)
        h, w, c = prepared.shape
        self.view.setPixmap(to_pixmap(prepared, VIEW - 4))
        self.view_caption.setText(f"As the model sees it: {w}×{h}×{c}")
        self.view_caption.setToolTip("Done to the image: " + "; ".join(steps) if steps
                                     else "Only resized to the model's input.")
        if steps:
            self.view_caption.setText(f"As the model sees it: {w}×{h}×{c}, "
                                      + ", ".join(s.split(":")[0] for s in steps))
        self.bars.set_rows(rows)
        self.hint.setText(f"{name}: most likely “{rows[0][0]}” ({rows[0][1]:.1%}).")
        self.last_latency_ms = (time.perf_counter() - self._asked_at) * 1000
        self.shown.emit()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.hint.setText("Drop an image file here, paste one (Ctrl+V), or click a sample.")


def _imagenet_base(run_dir: Path | None) -> str | None:
    from cnnstudio.core.predict import imagenet_base_of
    from cnnstudio.core.training.rundir import RunDir

    try:
        return imagenet_base_of(RunDir.open(run_dir)) if run_dir else None
    except StudioError:
        return None


def _dataset_info(run_dir: Path) -> dict:
    from cnnstudio.core.training.rundir import RunDir

    return RunDir(run_dir).read_json("dataset.json", {})
