"""The embedding projector: the test set's penultimate features in two dimensions (PCA, t-SNE,
UMAP when installed), points coloured by class or by right/wrong, or drawn as thumbnails.
Clicking a point sends its image to the window; a lasso (drag with "Lasso" on, then reshape
its PolyLineROI) gathers the images inside it in a gallery.

    panel.open_run(run_dir)                 # PCA of the run's test sample
    panel.method_box / panel.colour_box     # t-SNE; "thumbnails"
    panel.lasso([(x, y), …])                # as a drag does; panel.selected → test images

The features come from where the model lives (``ModelAccess``); the projection itself (t-SNE
takes seconds) runs on the panel's own worker thread, never holding the training thread.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.probes import projector
from cnnstudio.gui.families.classification.receptive_field_panel import (
    Requests,
    choose_image,
    rgb,
    sample_size,
)
from cnnstudio.gui.model_access import Answers, ModelAccess
from cnnstudio.gui.widgets.mosaic import ImageGallery

THUMBNAILS = 500         # thumbnails drawn at most (the other points stay dots)
RIGHT, WRONG = "#34a853", "#ea4335"
# Matplotlib's tab10: ten colours told apart at a glance (more classes: evenly spaced hues).
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
         "#7f7f7f", "#bcbd22", "#17becf")
COLOURINGS = (("By class", "class"), ("Right / wrong", "right"), ("Thumbnails", "thumbs"))


class LassoViewBox(pg.ViewBox):
    """A ViewBox that, while ``lasso_on``, draws a free-hand path with the left button and
    emits it (view coordinates) when the drag ends; otherwise it pans as usual."""
    lassoed = Signal(object)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lasso_on = False
        self._path: list[tuple[float, float]] = []
        self._line = pg.PlotCurveItem(pen=pg.mkPen("#fbbc04", width=2))
        self.addItem(self._line, ignoreBounds=True)

    def mouseDragEvent(self, ev, axis=None):      # noqa: N802 (Qt's name)
        if not self.lasso_on or ev.button() != Qt.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        if ev.isStart():             # from where the button went down, not where it moved
            start = self.mapSceneToView(ev.buttonDownScenePos())
            self._path = [(start.x(), start.y())]
        point = self.mapSceneToView(ev.scenePos())
        self._path.append((point.x(), point.y()))
        xs, ys = zip(*self._path, strict=True)
        self._line.setData(list(xs), list(ys))
        if ev.isFinish():
            self._line.setData([], [])
            self.lassoed.emit(np.asarray(self._path))


def _simplify(path, most: int = 40) -> np.ndarray:
    path = np.asarray(path, float)
    return path[np.linspace(0, len(path) - 1, most).astype(int)] if len(path) > most else path


class ProjectorPanel(QWidget):
    updated = Signal()                 # a projection was drawn
    selectionChanged = Signal(object)  # the indices (into the sample) inside the lasso
    imageChosen = Signal(object, str)

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.data: dict | None = None        # images, labels, names, probs, feats of a run
        self.projection: np.ndarray | None = None
        self.note = ""
        self.selected = np.zeros(0, np.int64)
        self.roi: pg.PolyLineROI | None = None
        self.thumbs: list[pg.ImageItem] = []
        self.requests = Requests()
        self._stale = False
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="projector")
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)

        self.method_box = QComboBox()
        for method in projector.methods():
            self.method_box.addItem(projector.METHODS[method], method)
        self.method_box.setToolTip("PCA: a linear view, distances kept; t-SNE / UMAP: "
                                   "neighbourhoods kept, distances between clusters not")
        self.colour_box = QComboBox()
        for text, key in COLOURINGS:
            self.colour_box.addItem(text, key)
        self.lasso_button = QPushButton("Lasso")
        self.lasso_button.setCheckable(True)
        self.lasso_button.setToolTip("Drag round some points to see their images; then drag "
                                     "the lasso's corners to change it")
        self.clear_button = QPushButton("Clear lasso")
        bar = QHBoxLayout()
        for label, widget in (("Projection", self.method_box), ("Points", self.colour_box)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addWidget(self.lasso_button)
        bar.addWidget(self.clear_button)
        bar.addStretch(1)
        self.view = LassoViewBox()
        self.plot = pg.PlotWidget(viewBox=self.view)
        self.plot.setMenuEnabled(False)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.scatter = pg.ScatterPlotItem(size=7, pen=None, hoverable=True)
        self.plot.addItem(self.scatter)
        self.legend = QLabel("", wordWrap=True)
        self.gallery = ImageGallery(side=48)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.plot)
        split.addWidget(self.gallery)
        split.setSizes([460, 160])
        self.status = QLabel("Open a classification run to see its test images' features.",
                             wordWrap=True)
        self.status.setStyleSheet("color: #8a8a8a;")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.legend)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self.method_box.currentIndexChanged.connect(lambda _i: self.reproject())
        self.colour_box.currentIndexChanged.connect(lambda _i: self.draw())
        self.lasso_button.toggled.connect(self._lasso_toggled)
        self.clear_button.clicked.connect(self.clear_lasso)
        self.view.lassoed.connect(self.lasso)
        self.scatter.sigClicked.connect(self._point_clicked)
        self.gallery.imageClicked.connect(self.choose)

    # -- the registry's hooks -------------------------------------------------------------
    def run_started(self, event) -> None:
        self.set_run(event.run_dir, compute=False)      # no features before the first epoch

    def open_run(self, path) -> None:
        self.set_run(path)

    def epoch_done(self, event) -> None:
        if self.isVisible():         # hidden, it waits until shown (training thread's time)
            self.refresh()
        else:
            self._stale = True

    def shown(self) -> None:
        if self._stale or self.data is None:
            self._stale = False
            self.refresh()

    def busy(self) -> bool:
        return self.requests.busy()

    def close_panel(self) -> None:
        self._closed = True             # an answer still on its way asks for nothing more
        self.models.close()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- computing --------------------------------------------------------------------------
    def set_run(self, run_dir, compute: bool = True) -> None:
        self.models.set_run(run_dir)
        self.data, self.projection = None, None
        self.clear_lasso()
        self.scatter.setData([])
        self._clear_thumbs()
        if compute:
            self.refresh()

    def _watch(self, key, future, on_result) -> None:
        self.answers.watch(key, future, *self.requests.track(key, on_result, self._failed))

    def refresh(self) -> None:
        """The test sample's features and predictions from the current model."""
        run_dir = self.models.run_dir
        if run_dir is None:
            return
        cached = self.data if self.data and self.data["run"] == run_dir else None

        def work(model):
            from cnnstudio.core.probes.adversarial_curve import sample_test_split

            images, labels, names = ((cached["images"], cached["labels"], cached["names"])
                                     if cached else sample_test_split(
                                         run_dir, min(projector.SAMPLE, sample_size(model))))
            return {"run": run_dir, "images": images, "labels": labels, "names": names,
                    "feats": projector.features(model, images),
                    "probs": projector.predictions(model, images)}

        self.status.setText("Reading the penultimate features of the test images…")
        self.models.submit("features", work,
                           *self.requests.track("features", self._features, self._failed))

    def _features(self, data: dict) -> None:
        self.data = data
        self.reproject()

    def reproject(self) -> None:
        if self.data is None or getattr(self, "_closed", False):
            return
        method, feats = self.method_box.currentData(), self.data["feats"]
        self.status.setText(f"{projector.METHODS[method]} of {len(feats)} test images…")
        data = self.data
        self._watch("project", self._pool.submit(projector.project, feats, method),
                    lambda found: self._projected(found, data))

    def _projected(self, found, data=None) -> None:
        if data is not None and data is not self.data:
            return                  # the run (or its features) changed while it projected
        self.projection, self.note = found
        self.clear_lasso()
        self.draw()
        self.view.autoRange(padding=0.05)
        self.updated.emit()

    # -- drawing ------------------------------------------------------------------------------
    @property
    def predicted(self) -> np.ndarray:
        return self.data["probs"].argmax(axis=1)

    def draw(self) -> None:
        if self.projection is None:
            return
        xy, labels, names = self.projection, self.data["labels"], self.data["names"]
        mode = self.colour_box.currentData()
        colours = ([pg.mkColor(c) for c in TAB10] if len(names) <= len(TAB10) else
                   [pg.intColor(i, hues=len(names), maxValue=230) for i in range(len(names))])
        right = self.predicted == labels
        if mode == "right":
            brushes = [pg.mkBrush(RIGHT if r else WRONG) for r in right]
            self.legend.setText(f"<span style='color:{RIGHT}'>● right ({right.sum()})</span>  "
                                f"<span style='color:{WRONG}'>● wrong ({(~right).sum()})"
                                f"</span>")
        else:
            brushes = [pg.mkBrush(colours[int(c) % len(colours)]) for c in labels]
            self.legend.setText("  ".join(
                f"<span style='color:{colours[i].name()}'>● {n}</span>"
                for i, n in enumerate(names)))
        self.scatter.setData(x=xy[:, 0], y=xy[:, 1], brush=brushes,
                             data=np.arange(len(xy)), size=7)
        self._clear_thumbs()
        if mode == "thumbs":
            self._draw_thumbs()
        accuracy = right.mean() if len(right) else 0.0
        self.status.setText(f"{self.note}. {len(xy)} test images, {accuracy:.1%} right. Click "
                            "a point to open its image; Lasso to gather a region.")

    def _draw_thumbs(self) -> None:
        xy, images = self.projection, self.data["images"]
        span = float(max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 1e-6))
        side = span / 30
        for i in range(min(len(xy), THUMBNAILS)):
            item = pg.ImageItem(rgb(images[i]), axisOrder="row-major", levels=(0, 255))
            item.setRect(QRectF(float(xy[i, 0]) - side / 2, float(xy[i, 1]) + side / 2,
                                side, -side))          # y up: the image's top row on top
            self.plot.addItem(item)
            self.thumbs.append(item)

    def _clear_thumbs(self) -> None:
        for item in self.thumbs:
            self.plot.removeItem(item)
        self.thumbs = []

    # -- choosing images ----------------------------------------------------------------------
    def _point_clicked(self, _item, points, *_args) -> None:
        if len(points):
            self.choose(int(points[0].data()))

    def choose(self, i: int) -> None:
        names, labels = self.data["names"], self.data["labels"]
        label, guess = int(labels[i]), int(self.predicted[i])
        caption = (f"test sample #{i} (class {names[label] if label < len(names) else label}, "
                   f"predicted {names[guess] if guess < len(names) else guess})")
        self.imageChosen.emit(self.data["images"][i], caption)
        choose_image(self.window, self.data["images"][i], caption)

    def _lasso_toggled(self, on: bool) -> None:
        self.view.lasso_on = on
        self.view.setMouseEnabled(not on, not on)

    def lasso(self, path) -> np.ndarray:
        """Put a lasso (a closed PolyLineROI, reshapable) along ``path`` and select its points."""
        if self.projection is None:
            return self.selected
        self.clear_lasso()
        self.roi = pg.PolyLineROI(_simplify(path).tolist(), closed=True,
                                  pen=pg.mkPen("#fbbc04", width=2))
        self.plot.addItem(self.roi)
        self.roi.sigRegionChangeFinished.connect(lambda _roi: self._select())
        return self._select()

    def polygon(self) -> np.ndarray:
        if self.roi is None:
            return np.zeros((0, 2))
        points = [self.roi.mapToParent(h.pos()) for h in self.roi.getHandles()]
        return np.array([(p.x(), p.y()) for p in points], float)

    def _select(self) -> np.ndarray:
        self.selected = np.flatnonzero(projector.inside(self.projection, self.polygon()))
        names, labels = self.data["names"], self.data["labels"]
        right = self.predicted[self.selected] == labels[self.selected]
        shown = self.selected[:300]
        counts = np.bincount(labels[self.selected], minlength=len(names))
        top = ", ".join(f"{names[c]} {counts[c]}" for c in np.argsort(-counts)[:4] if counts[c])
        self.gallery.set_images(
            self.data["images"][shown],
            [f"{names[int(labels[i])]}→{names[int(self.predicted[i])]}" for i in shown], shown,
            f"<b>{len(self.selected)} images in the lasso</b>: {int(right.sum())} right, "
            f"{int((~right).sum())} wrong · {top}"
            + (" (first 300 shown)" if len(self.selected) > 300 else ""),
            [RIGHT if self.predicted[i] == labels[i] else WRONG for i in shown])
        self.selectionChanged.emit(self.selected)
        return self.selected

    def clear_lasso(self) -> None:
        if self.roi is not None:
            self.plot.removeItem(self.roi)
            self.roi = None
        self.selected = np.zeros(0, np.int64)
        self.gallery.set_images([], [], [], "Lasso a region to see its images here.")

    def _failed(self, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"⚠ {text}")
