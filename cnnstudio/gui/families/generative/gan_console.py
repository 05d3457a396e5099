"""The GAN console: the centre tab of gan-mlp, dcgan and ssgan runs.

- the fixed-noise 8×8 grid: the same 64 latent points drawn by G after every epoch and
  every few hundred batches, so you watch the same digits form;
- the epoch slider replays the grids stored in the run directory; "Export animation"
  writes them as an animated GIF;
- click two cells → the 10-step spherical path between their latent points;
- a mode-collapse warning (gan_probes: the grid's diversity against real images');
- for a semi-supervised run: test accuracy per epoch, the labels used, and the same
  discriminator trained on the labels alone when such a run sits beside it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.generative import gan_probes as gp
from cnnstudio.core.probes.grid import tile
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui.model_access import Answers, ModelAccess
from cnnstudio.gui.widgets.bars import epoch_bar
from cnnstudio.gui.widgets.mosaic import MosaicView

GREY = "CET-L1"          # unused for RGB mosaics; grey images are drawn as grey RGB


def mosaic_of(images: np.ndarray, cols: int):
    """uint8 (N, h, w, C) → the float RGB mosaic MosaicView draws: a grey image's channel is
    repeated, so the screen shows G's pixel values exactly (a colour map would not)."""
    x = images.astype(np.float32) / 255.0
    return tile(np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x[..., :3], cols=cols, gap=1)


class GanConsole(QWidget):
    updated = Signal()              # a grid was drawn (tests, screenshots)
    interpolated = Signal()

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.store: gp.GridStore | None = None
        self.epochs: list[int] = []
        self.frame: gp.GridFrame | None = None
        self.real_diversity: float | None = None
        self.picked: list[int] = []
        self.strip_images: np.ndarray | None = None
        self.accuracy: dict[int, float] = {}
        self._cache: dict[int, gp.GridFrame] = {}
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)

        self.slider = QSlider(Qt.Horizontal)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TicksBelow)
        self.epoch_label = QLabel("no grids yet")
        self.epoch_label.setMinimumWidth(150)
        self.export_button = QPushButton("Export animation…")
        self.export_button.setToolTip("Write the per-epoch grids as an animated GIF")
        self.export_button.setEnabled(False)
        bar = epoch_bar(self.slider, self.epoch_label, self.export_button)
        self.grid = MosaicView("Fixed-noise samples", min_side=220)
        self.grid.setToolTip("The same 64 latent points every time. Click two cells to walk "
                             "the latent space between them.")
        self.strip = MosaicView("Latent interpolation", min_side=80)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.grid)
        split.addWidget(self.strip)
        split.setSizes([420, 120])
        self.diversity_label = QLabel("")
        self.diversity_label.setToolTip(
            "Diversity: the mean pairwise RMS pixel distance between the 64 samples (0 = all "
            "identical), beside the same measure on 64 real training images.")
        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #e37400; font-weight: bold;")
        self.warning.setVisible(False)
        self.ssgan_label = QLabel("")
        self.ssgan_label.setWordWrap(True)
        self.ssgan_label.setVisible(False)
        self.status = QLabel("Train a GAN or open a GAN run to watch its samples.")
        self.status.setStyleSheet("color: #8a8a8a;")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.diversity_label)
        layout.addWidget(self.warning)
        layout.addWidget(self.ssgan_label)
        layout.addWidget(self.status)
        self.slider.valueChanged.connect(self._slid)
        self.export_button.clicked.connect(lambda: self.export_animation())
        self.grid.tileClicked.connect(self.pick)

    # -- the registry's hooks ---------------------------------------------------------------
    def run_started(self, event) -> None:
        self.set_run(event.run_dir)

    def open_run(self, path) -> None:
        self.set_run(path)

    def probe_ready(self, event) -> None:
        if event.name != "gan-grid" or not isinstance(event.payload, gp.GridFrame):
            return
        frame = event.payload
        at_end = not self.epochs or self.slider.value() == len(self.epochs) - 1
        if frame.step is None:               # the epoch's grid, now on disk
            self._cache[frame.epoch] = frame
            self.reload()
        if at_end:                           # follow the run unless the user scrubbed back
            if self.epochs:
                self.slider.blockSignals(True)
                self.slider.setValue(len(self.epochs) - 1)
                self.slider.blockSignals(False)
            self.show_frame(frame)

    def epoch_done(self, event) -> None:
        for key in ("test_accuracy", "val_accuracy"):
            if key in event.logs:
                self.accuracy[event.epoch] = float(event.logs[key])
                break
        self._show_ssgan()

    def run_finished(self, event) -> None:
        self.reload()
        self._read_accuracy()
        self._show_ssgan()

    def close_panel(self) -> None:
        self.models.close()

    # -- a run -------------------------------------------------------------------------
    def set_run(self, run_dir) -> None:
        self.store = gp.GridStore(run_dir)
        self.models.set_run(run_dir)
        self._cache.clear()
        self.epochs, self.frame, self.picked = [], None, []
        self.real_diversity = None
        self.accuracy = {}
        self.strip.show_image(np.zeros((1, 1, 3), np.uint8), "Latent interpolation",
                              "Click two cells of the grid.")
        self.reload()
        self._read_accuracy()
        self._show_ssgan()
        if self.epochs:
            self.set_epoch(self.epochs[-1])
        else:
            self.status.setText("Waiting for the first grid (drawn after each epoch).")

    def reload(self) -> None:
        """Pick up newly stored epochs; the slider keeps its place."""
        if self.store is None:
            return
        self.epochs = self.store.epochs()
        self.real_diversity = self.store.meta().get("real_diversity")
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.epochs) - 1))
        if self.frame is not None and self.frame.step is None and self.frame.epoch in self.epochs:
            self.slider.setValue(self.epochs.index(self.frame.epoch))
        self.slider.blockSignals(False)
        self.export_button.setEnabled(bool(self.epochs))

    def set_epoch(self, epoch: int) -> None:
        if epoch not in self.epochs:
            raise ValueError(f"no grid stored for epoch {epoch}; stored: {self.epochs}")
        self.slider.blockSignals(True)
        self.slider.setValue(self.epochs.index(epoch))
        self.slider.blockSignals(False)
        self._slid(self.epochs.index(epoch))

    def _slid(self, position: int) -> None:
        if not self.epochs:
            return
        epoch = self.epochs[position]
        if epoch not in self._cache:
            self._cache[epoch] = self.store.load(epoch)
        self.show_frame(self._cache[epoch])

    def show_frame(self, frame: gp.GridFrame) -> None:
        self.frame = frame
        when = f"epoch {frame.epoch}" + (f", batch {frame.step} (live)" if frame.step else "")
        last = self.epochs[-1] if self.epochs else frame.epoch
        self.epoch_label.setText(f"{frame.epoch}  (of {last})" if frame.step is None
                                 else f"{frame.epoch}.{frame.step}  (live)")
        self.grid.show_mosaic(mosaic_of(frame.images, gp.GRID), GREY,
                              f"Fixed-noise samples · {when}", keep_view=True)
        real = self.real_diversity
        self.diversity_label.setText(
            f"Diversity {frame.diversity:.3f}" + (f"  (real images {real:.3f})" if real else ""))
        message = gp.mode_collapse(frame.diversity, real, frame.epoch)
        self.warning.setText(message or "")
        self.warning.setVisible(message is not None)
        self.status.setText("Drag the slider to replay the epochs · click two cells to "
                            "interpolate between them.")
        self.updated.emit()

    # -- export ------------------------------------------------------------------------------
    def export_animation(self, path=None) -> int:
        if self.store is None or not self.epochs:
            return 0
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export animation",
                                                  str(self.store.folder.parent / "samples.gif"),
                                                  "GIF animation (*.gif)")
            if not path:
                return 0
        try:
            count = gp.export_gif(self.store.folder.parent, path)
        except StudioError as exc:           # a full disk: one line, no half GIF left
            self.status.setText(str(exc))
            return 0
        self.status.setText(f"Wrote {count} frames (one per epoch) to {path}")
        return count

    # -- latent interpolation ------------------------------------------------------------
    def pick(self, index: int) -> None:
        self.picked = (self.picked + [int(index)])[-2:]
        if len(self.picked) < 2:
            self.status.setText(f"Cell {index} picked: click a second cell.")
            return
        z = self.store.latent() if self.store is not None else None
        if z is None:
            self.status.setText("This run stored no latent points.")
            return
        a, b = self.picked
        za, zb = z[a], z[b]
        self.status.setText(f"Interpolating from cell {a} to cell {b}…")
        self.models.submit("interpolate", lambda model: gp.interpolate(model, za, zb, 10),
                           lambda images: self._show_strip(a, b, images), self._failed)

    def _show_strip(self, a: int, b: int, images: np.ndarray) -> None:
        self.strip_images = images
        self.strip.show_mosaic(mosaic_of(images, len(images)), GREY,
                               f"Cell {a} → cell {b}: 10 steps on the sphere",
                               "drawn by the run's latest generator")
        self.status.setText("Click two more cells for another path.")
        self.interpolated.emit()

    def _failed(self, error) -> None:
        self.status.setText(f"Could not use the model: {error}")

    # -- semi-supervised runs ----------------------------------------------------------------
    def _read_accuracy(self) -> None:
        if self.store is None:
            return
        try:
            history = RunDir(self.store.folder.parent).epoch_history()
        except Exception:         # an unreadable log only loses this line
            return
        for record in history:
            logs = record.get("logs", {})
            for key in ("test_accuracy", "val_accuracy"):
                if key in logs:
                    self.accuracy[int(record["epoch"])] = float(logs[key])
                    break

    def _show_ssgan(self) -> None:
        run = RunDir(self.store.folder.parent) if self.store is not None else None
        labels = run.read_json("labels.json", {}) if run is not None else {}
        if not self.accuracy and not labels:
            self.ssgan_label.setVisible(False)
            return
        parts = []
        if labels:
            parts.append(f"<b>{labels.get('labels', '?')} labels</b> "
                         f"({labels.get('labelled_per_class', '?')} per class)")
        if self.accuracy:
            shown = sorted(self.accuracy.items())[-8:]
            parts.append("test accuracy by epoch: " + " · ".join(
                f"{e}: {a:.1%}" for e, a in shown))
        alone = supervised_baseline(run, labels.get("labels")) if run is not None else None
        if alone is not None:
            parts.append(f"same D on the labels alone: {alone[1]:.1%} ({alone[0]})")
        self.ssgan_label.setText(" — ".join(parts))
        self.ssgan_label.setVisible(True)


def supervised_baseline(run: RunDir, labels) -> tuple[str, float] | None:
    """(run name, test accuracy) of a sibling run of the same dataset that trained the same
    discriminator on the same number of labels alone (evaluation.json: supervised_only)."""
    try:
        dataset = run.config().dataset.id
    except Exception:
        return None
    for other in sorted(run.path.parent.iterdir(), reverse=True):
        if other == run.path or not (other / "evaluation.json").is_file():
            continue
        sibling = RunDir(other)
        evaluation = sibling.read_json("evaluation.json", {})
        if not evaluation.get("supervised_only") or "accuracy" not in evaluation:
            continue
        try:
            same = sibling.config().dataset.id == dataset
        except Exception:
            continue
        if same and (labels is None or evaluation.get("labels") == labels):
            return other.name, float(evaluation["accuracy"])
    return None
