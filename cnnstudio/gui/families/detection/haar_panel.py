"""The Haar cascade tab (task "haar"): Viola-Jones at work on one photo.

- Pick a cascade (every one OpenCV ships); the scale factor, min neighbours and min size
  sliders redraw the boxes at once (OpenCV's ``detectMultiScale``, on the GUI thread:
  tens of milliseconds, debounced).
- The first stage's Haar features painted over the first detected window (white: added,
  black: subtracted).
- The cascade read from its XML: weak classifiers per stage.
- Windows rejected per stage over the whole pyramid, counted by the studio's own numpy run
  of the cascade (``haar_stages``: the windows it keeps are OpenCV's raw candidates). That
  takes seconds, so it runs on a worker thread; ``busy()`` says so (screenshots wait).
- The image pyramid: its levels at one scale, the base window drawn in each.
- A second page, "Faces: Haar vs CNN" (``faces_compare``): the same photo through the
  frontal-face cascade and MTCNN side by side, with the benchmark's figures.

It opens on scikit-image's astronaut (offline); a dropped photo or a clicked sample
replaces it. Nothing here trains: the architecture panel says so, and Start stays off.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider, QLabeledSlider

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.detection import haar_probes, haar_stages
from cnnstudio.core.families.detection.haar_cascades import (
    cascade_label,
    cascade_path,
    read_cascade,
    shipped,
)
from cnnstudio.core.families.detection.haar_detect import HaarResult, detect_haar, to_gray
from cnnstudio.gui.families.detection.faces_compare import FacesCompare
from cnnstudio.gui.widgets.images import to_qimage

BACKGROUND = "#1e1e1e"
DEBOUNCE_MS = 30


def _astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def count_rejections(image: np.ndarray, cascade: str, scale: float, min_size: int) -> dict:
    """Worker thread: the numpy cascade over the pyramid → totals per stage."""
    counts = haar_stages.count_pyramid(to_gray(image), read_cascade(cascade_path(cascade)),
                                       scale, min_size)
    return haar_stages.totals(counts)


def _bar_plot(title: str, left: str) -> tuple[pg.PlotWidget, pg.BarGraphItem]:
    plot = pg.PlotWidget(background=BACKGROUND)
    plot.setTitle(title, size="9pt")
    plot.setLabel("bottom", "stage")
    plot.setLabel("left", left)
    plot.setMenuEnabled(False)
    plot.setMinimumHeight(110)
    bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush="#4c9be8")
    plot.addItem(bars)
    return plot, bars


class HaarPanel(QWidget):
    updated = Signal()          # boxes redrawn (tests, screenshots)
    counted = Signal()          # rejection counts on screen

    def __init__(self, window=None, parent=None, image: np.ndarray | None = None,
                 caption: str = ""):
        super().__init__(parent)
        self.window = window
        self.image = _astronaut() if image is None else np.asarray(image)
        self.caption = caption or ("astronaut (scikit-image)" if image is None else "image")
        self.result: HaarResult | None = None
        self._image_number = 0          # which image the counts belong to
        self.totals: dict | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="haar-count")
        self._future: Future | None = None
        self._future_key: tuple | None = None
        self._poll = QTimer(self, interval=50, timeout=self._collect)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS,
                                timeout=self.redetect)

        self.cascade = QComboBox()
        for name in shipped():
            self.cascade.addItem(f"{name}  ({cascade_label(name)})", name)
        start = _option(window, "cascade") or "frontalface"
        try:
            stem = cascade_path(start).stem.removeprefix("haarcascade_")
        except StudioError:
            stem = "frontalface_default"
        self.cascade.setCurrentIndex(max(0, self.cascade.findData(stem)))
        self.scale = QLabeledDoubleSlider(Qt.Horizontal)
        self.scale.setRange(1.02, 2.0)
        self.scale.setSingleStep(0.01)
        self.scale.setValue(1.1)
        self.neighbors = QLabeledSlider(Qt.Horizontal)
        self.neighbors.setRange(0, 30)
        self.neighbors.setValue(5)
        self.min_size = QLabeledSlider(Qt.Horizontal)
        self.min_size.setRange(0, 300)
        self.min_size.setValue(30)
        self.scale.setToolTip("Pyramid step: each level's window is this much larger "
                              "(smaller: more levels, slower, finer sizes)")
        self.neighbors.setToolTip("How many overlapping raw windows a box needs (0: show "
                                  "every raw window, ungrouped)")
        self.min_size.setToolTip("Smallest object searched, in pixels (fewer levels)")
        self.search = QComboBox()
        self.search.addItem("octaves (about twice as fast)", "octaves")
        self.search.addItem("OpenCV's full scan (what the counts below describe)", "full")
        self.search.setToolTip("Octaves: one OpenCV call per halved image, windows 1–2× the "
                               "base size, so large objects are not scanned pixel by pixel")
        opener = QPushButton("Open photo…")
        opener.clicked.connect(self.ask_photo)
        form = QFormLayout()
        form.addRow("Cascade", self.cascade)
        form.addRow("Scale factor", self.scale)
        form.addRow("Min neighbours", self.neighbors)
        form.addRow("Min size (px)", self.min_size)
        form.addRow("Search", self.search)
        self.summary = QLabel()
        self.summary.setWordWrap(True)

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(BACKGROUND)
        self.view.setMinimumSize(260, 260)
        self.box = self.view.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.photo = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.photo)

        self.features = QLabel()
        self.features.setAlignment(Qt.AlignCenter)
        self.features.setMinimumHeight(120)
        self.features_title = QLabel()
        self.structure_text = QLabel()
        self.structure_text.setWordWrap(True)
        self.structure_plot, self.structure_bars = _bar_plot(
            "Weak classifiers per stage (XML)", "features")
        self.reject_plot, self.reject_bars = _bar_plot(
            "Windows rejected per stage (log)", "windows")
        self.reject_text = QLabel()
        self.reject_text.setWordWrap(True)
        self.reject_text.setMinimumHeight(48)       # three lines: the plot must not cover them
        self.pyramid = QLabel()
        self.pyramid.setAlignment(Qt.AlignLeft | Qt.AlignBottom)
        self.pyramid_title = QLabel()

        for label in (self.features_title, self.reject_text, self.pyramid_title):
            label.setWordWrap(True)
        left = QVBoxLayout()
        top = QHBoxLayout()
        top.addLayout(form, 1)
        top.addWidget(opener, 0, Qt.AlignTop)
        left.addLayout(top)
        left.addWidget(self.summary)
        left.addWidget(self.view, 1)
        right = QVBoxLayout()
        for widget, stretch in ((self.features_title, 0), (self.features, 0),
                                (self.structure_text, 0), (self.structure_plot, 1),
                                (self.reject_plot, 1), (self.reject_text, 0)):
            right.addWidget(widget, stretch)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        cascade_page = QWidget()
        outer = QVBoxLayout(cascade_page)
        outer.addLayout(columns, 1)
        outer.addWidget(self.pyramid_title)
        outer.addWidget(self.pyramid)
        # The CNN beside the cascade: its page loads TensorFlow only when first shown.
        self.faces = FacesCompare(image=self.image, caption=self.caption)
        self.pages = QTabWidget()
        self.pages.addTab(cascade_page, "Viola–Jones at work")
        self.pages.addTab(self.faces, "Faces: Haar vs CNN")
        whole = QVBoxLayout(self)
        whole.setContentsMargins(0, 0, 0, 0)
        whole.addWidget(self.pages)

        self.cascade.currentIndexChanged.connect(self._cascade_changed)
        self.search.currentIndexChanged.connect(lambda _=None: self.redetect())
        for slider in (self.scale, self.neighbors, self.min_size):
            slider.valueChanged.connect(lambda _=None: self._debounce.start())
        self._cascade_changed()

    # -- hooks (gui/families/registry.py) -------------------------------------------
    def set_image(self, image: np.ndarray, caption: str = "") -> None:
        self.image, self.caption = np.asarray(image), caption or "the chosen image"
        self._image_number += 1
        self.redetect()
        self.faces.set_image(self.image, self.caption)

    def busy(self) -> bool:
        return self._future is not None or self._debounce.isActive() or self.faces.busy()

    def close_panel(self) -> None:
        self.faces.close_panel()
        self._poll.stop()
        self._debounce.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)   # a count ends alone

    # -- the detector ------------------------------------------------------------
    @property
    def cascade_name(self) -> str:
        return self.cascade.currentData()

    def _cascade_changed(self) -> None:
        cascade = read_cascade(cascade_path(self.cascade_name))
        weak = [s.weak_count for s in cascade.stages]
        self.structure_bars.setOpts(x=np.arange(1, len(weak) + 1), height=weak, width=0.8)
        kind = "stumps" if cascade.stumps_only else "small trees"
        self.structure_text.setText(
            f"<b>{cascade.name}</b>: {cascade.window[0]}×{cascade.window[1]} window, "
            f"{len(cascade.stages)} stages, {len(cascade.features)} Haar features "
            f"({cascade.tilted_features} tilted 45°), weak classifiers are {kind}")
        self.redetect()

    def options(self) -> tuple[float, int, int]:
        return round(float(self.scale.value()), 3), int(self.neighbors.value()), \
            int(self.min_size.value())

    def redetect(self) -> None:
        """Detect now with the sliders' values; redraw boxes, features and pyramid."""
        self._debounce.stop()
        scale, neighbors, min_size = self.options()
        try:
            self.result = detect_haar(self.image, self.cascade_name, scale, neighbors,
                                      min_size, search=self.search.currentData())
        except StudioError as exc:
            self.summary.setText(f"<span style='color:#e57373'>{exc}</span>")
            return
        r = self.result
        found = f"{len(r.boxes)} × {r.label}" if len(r.boxes) else f"no {r.label}"
        self.summary.setText(f"{self.caption}: <b>{found}</b> in {r.ms:.1f} ms "
                             f"(OpenCV detectMultiScale, {self.search.currentData()} search"
                             f"{votes_text(r.neighbors, neighbors)})")
        self.photo.setImage(haar_probes.draw_boxes(self.image, r.boxes))
        self.box.autoRange(padding=0.01)
        self._show_features()
        self._show_pyramid(scale, min_size)
        self._count_later(scale, min_size)
        self.updated.emit()

    def _show_features(self) -> None:
        cascade = read_cascade(cascade_path(self.cascade_name))
        if self.result is not None and len(self.result.boxes):
            window = haar_probes.crop_window(self.image, self.result.boxes[0])
            where = f"on the first {self.result.label} found"
        else:
            h, w = self.image.shape[:2]
            side = min(h, w)
            window = haar_probes.crop_window(self.image, ((w - side) // 2, (h - side) // 2,
                                                          side, side))
            where = "on the image's centre (nothing found)"
        tiles = haar_probes.feature_tiles(window, cascade, stage=0, tile=60, limit=12)
        columns = 5 if len(tiles) > 8 else 4 if len(tiles) > 6 else len(tiles)
        self.features.setPixmap(QPixmap.fromImage(to_qimage(_grid(tiles, columns))))
        count, weak = len(cascade.stage_features(0)), cascade.stages[0].weak_count
        trees = "" if count == weak else f" (in {weak} small trees)"
        self.features_title.setText(
            f"Stage 1's {count} Haar features{trees} {where} (white adds, black subtracts)")

    def _show_pyramid(self, scale: float, min_size: int) -> None:
        cascade = read_cascade(cascade_path(self.cascade_name))
        h, w = self.image.shape[:2]
        levels = haar_stages.pyramid((w, h), cascade.window, scale, min_size)
        strip = haar_probes.pyramid_strip(to_gray(self.image), levels, cascade.window,
                                          height=96, shown=8)
        self.pyramid.setPixmap(QPixmap.fromImage(to_qimage(strip)))
        if levels:
            self.pyramid_title.setText(
                f"OpenCV's full-scan pyramid: {len(levels)} levels, from {levels[0].size[0]}×"
                f"{levels[0].size[1]} (window {levels[0].window(cascade.window)[0]} px) to "
                f"{levels[-1].size[0]}×{levels[-1].size[1]} (window "
                f"{levels[-1].window(cascade.window)[0]} px); yellow: the "
                f"{cascade.window[0]}×{cascade.window[1]} window it slides")
        else:
            self.pyramid_title.setText("Image pyramid: no level (the image is smaller than "
                                       "the window or the min size)")

    # -- rejection counts on the worker thread -------------------------------------
    def _count_later(self, scale: float, min_size: int) -> None:
        key = (self._image_number, self.cascade_name, scale, min_size)
        if key == self._future_key:
            return                      # min neighbours only groups: the counts stand
        if self._future is not None:
            self._future.cancel()
        self._future_key = key
        self.reject_text.setText("Counting where each window leaves the cascade…")
        self._future = self._pool.submit(count_rejections, self.image, self.cascade_name,
                                         scale, min_size)
        self._poll.start()

    def _collect(self) -> None:
        future = self._future
        if future is None or not future.done():
            return
        self._future = None
        self._poll.stop()
        try:
            self.totals = t = future.result()
        except (StudioError, MemoryError) as exc:
            self.reject_text.setText(f"Could not count the windows: {exc}")
            return
        rejected = np.asarray(t["rejected"], float)
        # Counts fall from ~10⁵ to a handful: bars on a log scale, ticks in windows.
        self.reject_bars.setOpts(x=np.arange(1, len(rejected) + 1),
                                 height=np.log10(rejected + 1), width=0.8)
        top = int(np.ceil(np.log10(max(rejected.max(), 1) + 1)))
        self.reject_plot.getAxis("left").setTicks(
            [[(k, f"{10 ** k:,}") for k in range(0, top + 1, 2 if top > 3 else 1)]])
        evaluated = t["windows"] - t["skipped"]
        first = rejected[0] / evaluated if evaluated else 0
        self.reject_text.setText(
            f"{t['windows']:,} windows in {t['levels']} levels · {t['skipped']:,} skipped "
            f"(right of a stage-1 rejection, as OpenCV) · {t['flat']:,} flat (σ ≤ 10) · "
            f"stage 1 rejects {first:.0%} of the rest · {t['accepted']:,} pass all stages")
        self.counted.emit()

    def ask_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff "
                                              "*.webp)")
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> None:
        from pathlib import Path

        from cnnstudio.core.imaging import read_image

        try:
            image = read_image(path)
        except StudioError as exc:
            self.summary.setText(f"<span style='color:#e57373'>{exc}</span>")
            return
        self.set_image(image, Path(path).name)


def votes_text(votes, min_neighbors: int, shown: int = 6) -> str:
    """The summary's votes clause: "; votes: 12, 7" (the raw windows merged into each box,
    the first ``shown``), "; ungrouped" at min neighbours 0, and nothing when nothing was
    found (no box, no votes)."""
    if not len(votes):
        return ""
    if not min_neighbors:
        return "; ungrouped"
    more = ", …" if len(votes) > shown else ""
    return f"; votes: {', '.join(str(int(n)) for n in votes[:shown])}{more}"


def _option(window, key: str):
    """An option of the architecture picked in the window (the preset's cascade)."""
    try:
        return window.architecture.model_config().options.get(key)
    except AttributeError:
        return None


def _grid(tiles: list[np.ndarray], columns: int, gap: int = 4) -> np.ndarray:
    if not tiles:
        return np.full((8, 8, 3), 30, np.uint8)
    h, w = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap, 3), 30, np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, columns)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = t
    return out
