"""Shared parts of the insight panels: a labelled mosaic view, an image gallery, and the
plumbing that runs probe work off the GUI thread and brings the answer back.

Where the model lives decides who may touch it (DESIGN.md, Threads). A panel never
holds a model: it holds a *runner*, ``submit(fn) -> Future`` that calls ``fn(model)``
on the thread owning the model — ``RunControl.submit`` during training, or a
``ModelRunner`` (an inference copy on its own worker thread) for a saved run.
"""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

Runner = Callable[[Callable], Future]
BACKGROUND = (38, 38, 42)          # gaps between tiles: dark, so tiles read as separate cells


class ModelRunner:
    """An inference copy of a model on one worker thread: ``submit(fn)`` → Future of fn(model)."""

    def __init__(self, model=None, path: str | Path | None = None):
        self._model, self._path = model, path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="insight-model")

    @classmethod
    def from_run(cls, run_dir) -> ModelRunner:
        from cnnstudio.core.training.rundir import RunDir

        path = RunDir.open(run_dir).model_path()
        if path is None:
            raise FileNotFoundError(f"run {Path(run_dir).name} has no saved model yet")
        return cls(path=path)

    def _call(self, fn):
        if self._model is None:     # loaded on the worker: the GUI never waits for Keras
            from cnnstudio.core.predict import load_model_file

            self._model = load_model_file(self._path)
        return fn(self._model)

    def submit(self, fn) -> Future:
        return self._pool.submit(self._call, fn)

    __call__ = submit

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class Answers(QObject):
    """Delivers Future results on the GUI thread, dropping answers to superseded requests.

    Results wait in a locked deque and a no-argument signal wakes the GUI thread:
    PySide 6.12 crashed when Python objects crossed threads inside queued signals.
    """
    _wake = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._tickets = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._callbacks: dict[int, tuple[str, Callable, Callable]] = {}
        self._ready: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._wake.connect(self._deliver_all, Qt.QueuedConnection)

    def watch(self, key: str, future: Future, on_result: Callable, on_error: Callable) -> None:
        ticket = next(self._tickets)
        self._latest[key] = ticket
        self._callbacks[ticket] = (key, on_result, on_error)

        def done(f: Future):           # any thread
            error = f.exception() if not f.cancelled() else RuntimeError("cancelled")
            with self._lock:
                self._ready.append((ticket, None if error else f.result(), error))
            self._wake.emit()

        future.add_done_callback(done)

    def busy(self) -> bool:
        return bool(self._callbacks)

    def _deliver_all(self) -> None:
        while True:
            with self._lock:
                if not self._ready:
                    return
                ticket, result, error = self._ready.popleft()
            self._deliver(ticket, result, error)

    def _deliver(self, ticket, result, error) -> None:
        key, on_result, on_error = self._callbacks.pop(ticket)
        if self._latest.get(key) != ticket:
            return                   # a newer request for the same view is on its way
        if error is not None:
            on_error(error)
        else:
            on_result(result)


def refill_combo(box, names: list[str]) -> None:
    """Offer ``names`` in a combo box, keeping the user's choice when it is still there
    (no change signal fires: the caller redraws once)."""
    if names == [box.itemText(i) for i in range(box.count())]:
        return
    current = box.currentText()
    box.blockSignals(True)
    box.clear()
    box.addItems(names)
    if current in names:
        box.setCurrentText(current)
    box.blockSignals(False)


def colour_table(name: str) -> np.ndarray:
    return pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False)


def colourise(image: np.ndarray, cmap: str = "viridis") -> np.ndarray:
    """0..1 floats (NaN = gap) → uint8 RGB, the gaps painted BACKGROUND. RGB input keeps colour."""
    image = np.asarray(image, dtype=np.float32)
    gap = np.isnan(image) if image.ndim == 2 else np.isnan(image).any(axis=2)
    values = np.clip(np.nan_to_num(image, nan=0.0), 0.0, 1.0)
    if image.ndim == 2:
        rgb = colour_table(cmap)[np.round(values * 255).astype(np.int32)]
    else:
        rgb = np.round(values[..., :3] * 255).astype(np.uint8)
    rgb = np.array(rgb, dtype=np.uint8)
    rgb[gap] = BACKGROUND
    return rgb


class MosaicView(pg.GraphicsLayoutWidget):
    """One titled image (a tile mosaic, a heat map, a photo), zoomable, tiles numbered."""
    tileClicked = Signal(int)

    def __init__(self, title: str = "", parent=None, min_side: int = 160):
        super().__init__(parent)
        self.setBackground(BACKGROUND)
        self.setMinimumSize(min_side, min_side)
        self.title = self.addLabel(title, row=0, col=0, size="10pt", color="#e8e8e8")
        self.view = self.addViewBox(row=1, col=0, lockAspect=True, invertY=True,
                                    enableMenu=False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image_item)
        self.caption = self.addLabel("", row=2, col=0, size="8pt", color="#a8a8a8")
        self._labels: list[pg.TextItem] = []
        self._mosaic = None
        self.image = None               # the RGB array shown, for tests and screenshots
        self.image_item.mouseClickEvent = self._clicked

    def show_image(self, rgb: np.ndarray, title: str | None = None, caption: str | None = None,
                   keep_view: bool = False) -> bool:
        first = self.image is None or self.image.shape[:2] != rgb.shape[:2]
        self.image = rgb
        self.image_item.setImage(rgb, autoLevels=False, levels=(0, 255))
        if title is not None:
            self.title.setText(title)
        if caption is not None:
            self.caption.setText(caption)
        reset = first or not keep_view
        if reset:
            self.view.autoRange(padding=0.02)
        return reset

    def show_mosaic(self, mosaic, cmap: str = "viridis", title: str | None = None,
                    caption: str | None = None, labels: list[str] | None = None,
                    keep_view: bool = False) -> None:
        self._mosaic = mosaic
        reset = self.show_image(colourise(mosaic.image, cmap), title, caption, keep_view)
        self._place_labels(mosaic, labels or [])
        if labels and reset:   # room above the first row for its numbers
            h, w = mosaic.image.shape[:2]
            self.view.setRange(xRange=(-0.5, w), yRange=(-max(1.0, 0.8 * mosaic.gap) - 0.5, h),
                               padding=0.02)

    def _place_labels(self, mosaic, labels: list[str]) -> None:
        # Numbers only where they stay readable: a few dozen tiles, tiles not tiny.
        if len(labels) > 64 or min(mosaic.tile_shape) < 3:
            labels = []
        while len(self._labels) < len(labels):
            # A dark badge keeps the number readable on light and dark tiles alike.
            item = pg.TextItem(color=(255, 235, 130), anchor=(0, 1))
            font = QFont("Sans")
            font.setPixelSize(8)
            item.setFont(font)
            self.view.addItem(item)
            self._labels.append(item)
        for i, item in enumerate(self._labels):
            if i < len(labels):
                x, y = mosaic.tile_origin(i)
                item.setText(labels[i])
                item.setPos(x - 0.7, y + 0.15)     # in the gap just above the tile
                item.setVisible(True)
            else:
                item.setVisible(False)

    def _clicked(self, event) -> None:
        if self._mosaic is None or event.button() != Qt.LeftButton:
            return
        pos = event.pos()
        index = self._mosaic.tile_at(pos.x(), pos.y())
        if index is not None:
            self.tileClicked.emit(index)
            event.accept()


def to_pixmap(image: np.ndarray, side: int) -> QPixmap:
    """uint8 (H, W, 1|3) → a square pixmap, nearest-neighbour so pixels stay crisp."""
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    if image.ndim == 2 or image.shape[2] == 1:
        data = np.ascontiguousarray(image.reshape(h, w))
        qimage = QImage(data.data, w, h, w, QImage.Format_Grayscale8).copy()
    else:
        data = np.ascontiguousarray(image[:, :, :3])
        qimage = QImage(data.data, w, h, 3 * w, QImage.Format_RGB888).copy()
    return QPixmap.fromImage(qimage).scaled(side, side, Qt.KeepAspectRatio,
                                            Qt.FastTransformation)


class ImageGallery(QWidget):
    """A wrapping grid of thumbnails with captions; clicking one emits its index."""
    imageClicked = Signal(int)

    def __init__(self, side: int = 72, parent=None):
        super().__init__(parent)
        self.side = side
        self.header = QLabel("")
        self.header.setWordWrap(True)
        self.list = QListWidget()
        self.list.setViewMode(QListView.IconMode)
        self.list.setResizeMode(QListView.Adjust)
        self.list.setMovement(QListView.Static)
        self.list.setIconSize(pg.QtCore.QSize(side, side))
        self.list.setGridSize(pg.QtCore.QSize(side + 34, side + 38))
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(True)
        self.list.itemClicked.connect(lambda item: self.imageClicked.emit(item.data(Qt.UserRole)))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.list)
        self.indices: list[int] = []

    def set_images(self, images, captions: list[str], indices=None, header: str = "",
                   colours: list[str | None] | None = None, tooltips: list[str] | None = None):
        self.list.clear()
        self.indices = list(range(len(images))) if indices is None else [int(i) for i in indices]
        self.header.setText(header)
        for n, (image, caption) in enumerate(zip(images, captions, strict=True)):
            item = QListWidgetItem(QIcon(to_pixmap(image, self.side)), caption)
            item.setData(Qt.UserRole, self.indices[n])
            item.setTextAlignment(Qt.AlignHCenter)
            if colours and colours[n]:     # mid-tone colours read on light and dark themes
                item.setForeground(QColor(colours[n]))
            if tooltips:
                item.setToolTip(tooltips[n])
            self.list.addItem(item)

    def count(self) -> int:
        return self.list.count()

    def click(self, row: int) -> None:
        """Act as if thumbnail ``row`` was clicked (keyboard activation, tests)."""
        self.list.setCurrentRow(row)
        self.imageClicked.emit(self.indices[row])


class InsightPanel(QWidget):
    """Base of the model-backed insight panels: a runner, a status line, update signals.

    ``set_run(run_dir)`` opens a saved run with its own inference copy;
    ``set_runner(submit, class_names)`` uses a live run (``RunControl.submit``);
    ``set_model(model)`` wraps a model the panel may use from its own worker thread.
    """
    updated = Signal()               # the view changed (tests wait on this)
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.runner: Runner | None = None
        self._owned: ModelRunner | None = None
        self.class_names: list[str] = []
        self.run_dir: Path | None = None
        self.answers = Answers(self)
        self.status = QLabel("Open a run or start training to see inside the network.")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #8a8a8a;")

    # -- where the model comes from ----------------------------------------
    def set_run(self, run_dir) -> None:
        from cnnstudio.core.training.rundir import RunDir

        folder = RunDir.open(run_dir)
        self.run_dir = folder.path
        names = (folder.read_json("dataset.json", {}) or {}).get("class_names") or []
        try:
            runner = ModelRunner.from_run(folder.path)
        except FileNotFoundError as exc:
            self._fail(exc)
            return
        self._use(runner, names, owned=runner)

    def set_model(self, model, class_names=None) -> None:
        runner = ModelRunner(model)
        self._use(runner, class_names or [], owned=runner)

    def set_runner(self, runner: Runner, class_names=None, run_dir=None) -> None:
        self.run_dir = Path(run_dir) if run_dir else self.run_dir
        self._use(runner, class_names or [], owned=None)

    def _use(self, runner, class_names, owned) -> None:
        self.close_runner()
        self.runner, self._owned = runner, owned
        self.class_names = [str(c) for c in class_names]
        self.model_changed()

    def close_runner(self) -> None:
        if self._owned is not None:
            self._owned.close()
        self._owned = None

    def closeEvent(self, event):     # noqa: N802 (Qt's name)
        self.close_runner()
        super().closeEvent(event)

    # -- for subclasses ------------------------------------------------------
    def model_changed(self) -> None:
        """A new model source: refresh what the panel shows."""

    def compute(self, key: str, fn, on_result) -> bool:
        """Run ``fn(model)`` where the model lives; ``on_result`` runs on the GUI thread."""
        if self.runner is None:
            return False
        try:
            future = self.runner(fn)
        except Exception as exc:    # a live run that has just ended
            self._fail(exc)
            return False
        self.answers.watch(key, future, on_result, self._fail)
        return True

    def _fail(self, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"⚠ {text}")
        self.failed.emit(text)

    def class_name(self, index: int) -> str:
        return self.class_names[index] if 0 <= index < len(self.class_names) else str(index)
