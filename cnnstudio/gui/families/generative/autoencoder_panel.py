"""The autoencoder tab (chapter 6): what the code keeps, how it is laid out, and image search.

    originals / noisy inputs (denoising) / reconstructions of the fixed probe images,
        every epoch, replayable with the slider (run_dir/probes/autoencoder-epoch-*.npz)
    the compression figure, and the code of the chosen image as a heat map (one tile
        per code channel)
    a 2-D PCA map of the test set's codes coloured by digit: click a point to choose it
    image search: the chosen (or dropped) image's 10 nearest test images in code space

Everything but a dropped image comes from the probe events and the run directory, so
the panel never waits for the model. A dropped image needs the encoder: during
training the request is served between batches (``window.bridge.submit``); for an
opened run an inference copy answers on its own thread (``ModelRunner``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSplitter, QVBoxLayout, QWidget

from cnnstudio.core.families.generative import autoencoder_probes as probes
from cnnstudio.core.probes.feature_maps import channel_view
from cnnstudio.core.probes.grid import tile
from cnnstudio.gui.families.generative.reconstruction_view import image_stats
from cnnstudio.gui.model_access import Answers, ModelRunner
from cnnstudio.gui.widgets.bars import epoch_bar
from cnnstudio.gui.widgets.mosaic import ImageGallery, MosaicView

SEARCH_K = 10


def class_colour(label: int) -> tuple[int, int, int]:
    colour = pg.intColor(int(label), hues=10, values=1, maxValue=255, minValue=150)
    return colour.red(), colour.green(), colour.blue()


def as_rgb_unit(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, 1|3) → float (N, H, W, 3) in [0, 1], the mosaic's colour form."""
    unit = probes.to_unit(images)
    return np.repeat(unit, 3, axis=-1) if unit.shape[-1] == 1 else unit[..., :3]


class AutoencoderPanel(QWidget):
    updated = Signal()          # a view changed (tests wait on this)
    searched = Signal()         # the nearest images are on screen

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.store: probes.AutoencoderStore | None = None
        self.live = False
        self.epochs: list[int] = []
        self.records: dict[int, probes.EpochRecord] = {}
        self.current: probes.EpochRecord | None = None
        self.probe_set: dict[str, np.ndarray] = {}
        self.codes: probes.CodeSet | None = None
        self.points: np.ndarray | None = None
        self.query: np.ndarray | None = None       # the chosen image's flattened code
        self.neighbours: tuple[np.ndarray, np.ndarray] | None = None
        self.input_shape: tuple[int, ...] | None = None
        self.code_shape: tuple[int, ...] | None = None
        self.class_names: list[str] | None = None
        self._runner: ModelRunner | None = None
        self.answers = Answers(self)

        self.slider = QSlider(Qt.Horizontal)
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(lambda pos: self.set_epoch(self.epochs[pos]))
        self.epoch_label = QLabel("no epochs yet")
        self.epoch_label.setMinimumWidth(110)
        self.compression = QLabel("")
        self.compression.setWordWrap(True)
        bar = epoch_bar(self.slider, self.epoch_label)

        self.strip = MosaicView("Probe images", min_side=140)
        self.strip.tileClicked.connect(self._strip_clicked)
        self.chosen = MosaicView("Chosen image", min_side=120)
        self.code_view = MosaicView("Its code", min_side=120)
        self.map = pg.PlotWidget(title="Test codes, PCA")
        self.map.setMinimumSize(220, 200)
        self.map.addLegend(offset=(-5, 5), labelTextSize="7pt")
        self.map.showGrid(x=True, y=True, alpha=0.2)
        self.scatter: list[pg.ScatterPlotItem] = []
        self.map_caption = QLabel("The test codes appear here after the first epoch.")
        self.map_caption.setWordWrap(True)
        self.gallery = ImageGallery(side=48)
        self.gallery.imageClicked.connect(self.choose_test_image)
        self.status = QLabel("Open an autoencoder run or start training one.")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #8a8a8a;")

        chosen = QHBoxLayout()
        chosen.addWidget(self.chosen)
        chosen.addWidget(self.code_view)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.strip, 3)
        left_layout.addWidget(self.compression)
        left_layout.addLayout(chosen, 2)
        map_box = QWidget()
        map_layout = QVBoxLayout(map_box)
        map_layout.setContentsMargins(0, 0, 0, 0)
        map_layout.addWidget(self.map, 1)
        map_layout.addWidget(self.map_caption)
        right = QSplitter(Qt.Vertical)
        right.addWidget(map_box)
        right.addWidget(self.gallery)
        right.setSizes([300, 170])
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([560, 440])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

    # -- the registry's hooks -------------------------------------------------------
    def open_run(self, path) -> None:
        """A run folder from the Runs panel (or a finished live run): all from disk."""
        self._reset(Path(path), live=False)
        store = self.store
        self.epochs = store.epochs()
        try:
            self.probe_set = store.probes()
        except Exception:
            self.probe_set = {}
        self._set_codes(store.codes())
        if not self.epochs:
            self.status.setText("This run has stored no autoencoder probes yet.")
            self.updated.emit()
            return
        self._refresh_slider(follow=True)
        self.status.setText("Drag the slider to replay training · click a probe, a map point "
                            "or a result to search · drop an image to search with it.")

    def run_started(self, event) -> None:
        if getattr(event, "resumed", False):      # earlier epochs are on disk already
            self.open_run(event.run_dir)
        else:
            self._reset(Path(event.run_dir), live=True)
        self.live = True
        self.status.setText("Training: reconstructions appear after each epoch.")

    def probe_ready(self, event) -> None:
        if event.name != "autoencoder":
            return
        payload = event.payload or {}
        self.probe_set = {k: payload[k] for k in ("images", "labels", "noisy")
                          if payload.get(k) is not None}
        self.input_shape, self.code_shape = payload.get("input_shape"), payload.get("code_shape")
        self.records[event.epoch] = payload["record"]
        if event.epoch not in self.epochs:
            self.epochs = sorted([*self.epochs, event.epoch])
        if payload.get("codes") is not None:
            self._set_codes(payload["codes"])
        self._refresh_slider(follow=True)

    def run_finished(self, event) -> None:
        self.live = False
        if event.run_dir:
            self.open_run(event.run_dir)

    def set_image(self, image, caption: str = "") -> None:
        """A dropped or picked image: its code comes from the model, then the search."""
        image = np.asarray(image)
        if self.run_dir is None:
            self.status.setText("Open an autoencoder run first.")
            return
        self.status.setText(f"Encoding {caption or 'the image'}…")
        stats = image_stats(self.run_dir)        # photos as the training images look
        self._compute(lambda model: probes.reconstruct(model, image, stats=stats),
                      lambda out: self._show_encoded(out, caption or "dropped image"))

    def close_panel(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    # -- choosing an image -----------------------------------------------------------
    def choose_probe(self, index: int) -> None:
        if self.current is None or not 0 <= index < len(self.current.codes):
            return
        image = self.probe_set["images"][index]
        self._choose(image, self.current.codes[index], f"probe image {index + 1} · "
                     f"{self._label_text(self.probe_set['labels'][index])}")

    def choose_test_image(self, index: int) -> None:
        if self.codes is None:
            return
        self._choose(self.codes.images[index], self.codes.codes[index],
                     f"test image {index} · {self._label_text(self.codes.labels[index])}",
                     exclude=index)

    def _strip_clicked(self, tile_index: int) -> None:
        if self.current is not None:
            self.choose_probe(tile_index % len(self.current.codes))

    def _map_clicked(self, item, points, *_args) -> None:
        if len(points):
            self.choose_test_image(int(points[0].data()))

    def _show_encoded(self, out: dict, caption: str) -> None:
        self._choose(out["input"], out["code"], caption)

    def _choose(self, image, code, caption: str, exclude: int | None = None) -> None:
        code = np.asarray(code, np.float32)
        shape = self.code_shape or (self.codes.code_shape if self.codes else code.shape)
        self.chosen.show_image(np.asarray(as_rgb_unit(image[None])[0] * 255, np.uint8),
                               title="Chosen image", caption=caption)
        self.show_code(code.reshape(shape))
        self.query = code.reshape(-1)
        self._search(caption, exclude)

    def show_code(self, code: np.ndarray) -> None:
        """One tile per code channel, on one colour scale (a quiet channel stays dark)."""
        view = channel_view(code, "code", norm="layer", cols=min(4, code.shape[-1]))
        lo, hi = view.value_range
        dims = "×".join(str(d) for d in code.shape)
        self.code_view.show_mosaic(view.mosaic, "viridis", f"Its code: {dims}",
                                   f"values {lo:.2f} … {hi:.2f}", view.labels)

    def _search(self, caption: str, exclude: int | None) -> None:
        if self.codes is None:
            self.gallery.set_images([], [], header="No test codes stored yet: they are "
                                    "written after the first epoch.")
            self.updated.emit()
            return
        order, dist = probes.nearest(self.codes.codes, self.query, SEARCH_K, exclude)
        self.neighbours = (order, dist)
        captions = [f"{self._label_text(self.codes.labels[i])} · d {d:.2f}"
                    for i, d in zip(order, dist, strict=True)]
        colours = [pg.mkColor(class_colour(self.codes.labels[i])).name() for i in order]
        self.gallery.set_images(self.codes.images[order], captions, order,
                                f"<b>{len(order)} nearest test images</b> to {caption} in "
                                "code space (Euclidean distance between codes)", colours)
        self.status.setText(f"Searched {len(self.codes.codes)} test codes "
                            f"(epoch {self.codes.epoch}).")
        self.searched.emit()
        self.updated.emit()

    # -- epochs ----------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        if epoch not in self.records:
            self.records[epoch] = self.store.load(epoch)
        self.current = self.records[epoch]
        if self.epochs:
            self.slider.blockSignals(True)
            self.slider.setValue(self.epochs.index(epoch))
            self.slider.blockSignals(False)
        self.epoch_label.setText(f"{epoch}  (of {self.epochs[-1]})")
        self._draw_strip()
        self.updated.emit()

    def _refresh_slider(self, follow: bool) -> None:
        at_end = self.current is None or self.slider.value() >= self.slider.maximum()
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.epochs) - 1))
        self.slider.blockSignals(False)
        if self.epochs and (follow and at_end or self.current is None):
            self.set_epoch(self.epochs[-1])

    def _draw_strip(self) -> None:
        images = self.probe_set.get("images")
        if images is None or self.current is None:
            return
        rows = [images] + ([self.probe_set["noisy"]] if "noisy" in self.probe_set else [])
        rows.append(self.current.reconstructions)
        names = ["originals"] + (["noisy inputs"] if len(rows) == 3 else []) + \
            ["reconstructions"]
        n = len(images)
        mosaic = tile(np.concatenate([as_rgb_unit(r) for r in rows]), cols=n)
        recon, clean = probes.to_unit(self.current.reconstructions), probes.to_unit(images)
        quality = f"PSNR {np.mean(probes.psnr_per_image(clean, recon)):.1f} dB"
        if "noisy" in self.probe_set:
            noisy = probes.to_unit(self.probe_set["noisy"])
            quality = f"noisy {np.mean(probes.psnr_per_image(clean, noisy)):.1f} dB → " \
                      f"denoised {quality[5:]}"
        self.strip.show_mosaic(mosaic, title=f"Epoch {self.current.epoch}: " + " / ".join(names),
                               caption=f"rows: {', '.join(names)} · {quality} · click a "
                                       "column to search with it", keep_view=True)
        self.input_shape = self.input_shape or tuple(images.shape[1:])
        self.code_shape = self.code_shape or tuple(self.current.codes.shape[1:])
        figure = probes.compression(self.input_shape, self.code_shape)
        self.compression.setText("<b>Compression</b>: " + figure.text(self.input_shape,
                                                                       self.code_shape))

    # -- the code map ----------------------------------------------------------------
    def _set_codes(self, codes: probes.CodeSet | None) -> None:
        self.codes = codes
        for item in self.scatter:
            self.map.removeItem(item)
        self.scatter = []
        if codes is None or len(codes.codes) < 2:
            self.points = None
            return
        self.code_shape = self.code_shape or codes.code_shape
        self.points, explained = probes.pca_2d(codes.codes)
        for label in np.unique(codes.labels):
            members = np.flatnonzero(codes.labels == label)
            item = pg.ScatterPlotItem(
                self.points[members, 0], self.points[members, 1], data=members, size=6,
                pen=None, brush=pg.mkBrush(*class_colour(label), 200), hoverable=True,
                name=self._label_text(label))
            item.sigClicked.connect(self._map_clicked)
            self.map.addItem(item)
            self.scatter.append(item)
        self.map.setTitle(f"Test codes, PCA · epoch {codes.epoch}")
        self.map_caption.setText(f"{len(codes.codes)} test images, coloured by class; the axes "
                                 f"explain {explained[0]:.0%} and {explained[1]:.0%} of the "
                                 "codes' variance · click a point")
        if self.query is not None and len(self.query) == codes.codes.shape[1]:
            self._search("the chosen image", None)      # the codes moved: search again

    # -- plumbing --------------------------------------------------------------------
    def _reset(self, path: Path, live: bool) -> None:
        if self.run_dir != path:
            self.close_panel()
        self.run_dir, self.live = path, live
        self.store = probes.AutoencoderStore(path)
        self.epochs, self.records, self.current = [], {}, None
        self.probe_set, self.query, self.neighbours = {}, None, None
        self.input_shape = self.code_shape = None
        self.class_names: list[str] | None = None     # read from dataset.json when needed
        self._set_codes(None)
        self.gallery.set_images([], [], header="Click a probe image or a map point, or drop "
                                "an image, to find its nearest test images.")

    def _label_text(self, label) -> str:
        if self.class_names is None and self.run_dir is not None:
            from cnnstudio.core.training.rundir import RunDir

            info = RunDir(self.run_dir).read_json("dataset.json", {}) or {}
            self.class_names = [str(c) for c in info.get("class_names") or []]
        names, label = self.class_names or [], int(label)
        return names[label] if 0 <= label < len(names) else str(label)

    def _compute(self, fn, on_result) -> None:
        bridge = getattr(self.window, "bridge", None)
        if self.live and bridge is not None and bridge.running:
            def delivered(future):
                try:
                    on_result(future.result())
                except Exception as exc:       # the run ended first, or the image misfit
                    self._fail(exc)
            if bridge.submit(fn, delivered):
                return
        if self._runner is None:
            try:
                self._runner = ModelRunner.from_run(self.run_dir)
            except Exception as exc:
                self._fail(exc)
                return
        self.answers.watch("encode", self._runner.submit(fn), on_result, self._fail)

    def _fail(self, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"⚠ {text}")
        self.updated.emit()
