"""The glimpse panel: the centre tab of Recurrent Attention Model runs (book chapter 9).

- the image with the scanpath: numbered fixations, arrows, the k nested squares of each;
- the glimpses as the network sees them: a column per step, a row per scale;
- the class probabilities after each glimpse (the chosen step's bars, and every step's
  best class in the caption);
- a step slider with play / pause; an epoch slider replaying the probe images' traces
  stored every epoch (run_dir/probes/ram-epoch-*.npz); a probe chooser;
- "Random fixations": the same network, the same epoch, looking at random places;
- drop an image: the model looks at it, step by step (placed on the canvas as training
  placed digits; served between batches during training, else by an inference copy).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.families.attention import ram_probes
from cnnstudio.core.families.attention.glimpse import glimpse, glimpse_unit
from cnnstudio.core.families.attention.ram import RAM_DEFAULTS
from cnnstudio.core.probes.grid import tile
from cnnstudio.gui.families.attention.scanpath_view import ScanpathView
from cnnstudio.gui.model_access import Answers, ModelAccess
from cnnstudio.gui.widgets.bars import epoch_bar
from cnnstudio.gui.widgets.mosaic import MosaicView

PLAY_MS = 700


def sensor_options(run_dir) -> dict:
    """The run's glimpse sensor settings (its model options over the RAM's defaults)."""
    from cnnstudio.core.training.rundir import RunDir

    try:
        options = RunDir(run_dir).config().model.options
    except Exception:
        options = {}
    o = {**RAM_DEFAULTS, **options}
    return {"patch": int(o["patch"]), "scales": int(o["scales"]), "ratio": int(o["scale_ratio"])}


class Trace:
    """One image looked at: locations (T, 2), probabilities (T, C), glimpses (T, k, g, g, C)."""

    def __init__(self, image, locations, probabilities, sensor: dict, label=None,
                 glimpses=None, source: str = ""):
        self.image, self.label, self.source = np.asarray(image), label, source
        self.locations = np.asarray(locations)
        self.probabilities = np.asarray(probabilities)
        self.sensor = sensor
        if glimpses is None:       # not stored: the numpy sensor recomputes them exactly
            glimpses = np.stack([glimpse(self.image, loc, sensor["patch"], sensor["scales"],
                                         sensor["ratio"]) for loc in self.locations])
        self.glimpses = np.asarray(glimpses, np.float32)

    @property
    def steps(self) -> int:
        return len(self.locations)


class GlimpsePanel(QWidget):
    updated = Signal()              # a trace was drawn (tests, screenshots)

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.store: ram_probes.GlimpseStore | None = None
        self.epochs: list[int] = []
        self.frames: dict[int, ram_probes.GlimpseFrame] = {}
        self.frame: ram_probes.GlimpseFrame | None = None
        self.dropped: dict[str, Trace] = {}        # "mean" / "random" traces of a dropped image
        self.trace: Trace | None = None
        self.sensor = {"patch": 12, "scales": 3, "ratio": 2}
        self.class_names: list[str] = []
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)

        self.epoch_slider = QSlider(Qt.Horizontal)
        self.epoch_slider.setPageStep(1)
        self.epoch_slider.valueChanged.connect(lambda i: self.set_epoch(self.epochs[i]))
        self.epoch_label = QLabel("no epochs yet")
        self.epoch_label.setMinimumWidth(110)
        self.probe = QSpinBox()
        self.probe.setPrefix("probe ")
        self.probe.setRange(1, ram_probes.PROBES)
        self.probe.setToolTip("Which of the fixed probe images (from the test split) to show")
        self.probe.valueChanged.connect(lambda _: self._use_probe())
        self.random = QCheckBox("Random fixations")
        self.random.setToolTip("The same network looking at uniformly random places instead "
                               "of where its location network points")
        self.random.toggled.connect(lambda _: self._refresh_trace())
        top = epoch_bar(self.epoch_slider, self.epoch_label, self.probe, self.random)

        self.step_slider = QSlider(Qt.Horizontal)
        self.step_slider.setPageStep(1)
        self.step_slider.setRange(1, 1)
        self.step_slider.valueChanged.connect(lambda _: self._draw())
        self.step_label = QLabel("step –")
        self.step_label.setMinimumWidth(80)
        # Qt's own media icons, not "▶"/"⏸" characters a font may lack (a missing-glyph box).
        self.play_button = QPushButton()
        self.play_button.setCheckable(True)
        self._show_play(False)
        self.play_button.toggled.connect(self.play)
        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_MS)
        self.timer.timeout.connect(self._advance)
        steps = QHBoxLayout()
        steps.addWidget(self.play_button)
        steps.addWidget(QLabel("Glimpse"))
        steps.addWidget(self.step_slider, 1)
        steps.addWidget(self.step_label)

        self.scanpath = ScanpathView()
        self.strip = MosaicView("Glimpses (columns: steps · rows: scales)", min_side=120)
        self.bars_plot = pg.PlotWidget(title="Class probabilities after the glimpse")
        self.bars_plot.setMinimumHeight(150)
        self.bars_plot.setYRange(0, 1)
        self.bars_plot.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7,
                                    brush=(90, 160, 230))
        self.bars_plot.addItem(self.bars)
        self.answer = QLabel("")
        self.answer.setWordWrap(True)
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.strip)
        right.addWidget(self.bars_plot)
        right.setSizes([220, 200])
        split = QSplitter()
        split.addWidget(self.scanpath)
        split.addWidget(right)
        split.setSizes([480, 520])
        self.status = QLabel("Train a Recurrent Attention Model or open a RAM run to see where "
                             "it looks. Drop an image to watch it look, step by step.")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #8a8a8a;")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(steps)
        layout.addWidget(split, 1)
        layout.addWidget(self.answer)
        layout.addWidget(self.status)

    # -- the registry's hooks ---------------------------------------------------------------
    def run_started(self, event) -> None:
        self._reset(Path(event.run_dir))
        if getattr(event, "resumed", False):
            self._load_epochs()
        self.status.setText("Training: the probe images' glimpses appear after each epoch.")

    def open_run(self, path) -> None:
        self._reset(Path(path))
        self._load_epochs()
        if not self.epochs:
            self.status.setText("This run has stored no glimpses yet.")
            self.updated.emit()
        else:
            self.status.setText("Drag the epoch slider to replay training · play the steps · "
                                "drop an image to watch the model look at it.")

    def probe_ready(self, event) -> None:
        if event.name != "ram-glimpses" or event.payload is None:
            return
        self.frames[event.epoch] = event.payload
        if event.epoch not in self.epochs:
            self.epochs = sorted([*self.epochs, event.epoch])
        self._refresh_epochs(follow=True)

    def run_finished(self, event) -> None:
        if event.run_dir and not self.dropped:
            self.open_run(event.run_dir)

    def set_image(self, image, caption: str = "") -> None:
        """A dropped or picked image: the model looks at it, with both policies."""
        if self.run_dir is None:
            self.status.setText("Open a RAM run (or start training one) first.")
            return
        image = np.asarray(image)
        name = caption or "the dropped image"
        self.status.setText(f"The model is looking at {name}…")
        info = self._dataset_info()

        def both(model):
            from cnnstudio.core.families.attention.ram_predict import look_at

            return {mode: look_at(model, image, info, mode) for mode in ("mean", "random")}

        self.models.submit("look", both, lambda out: self._looked(out, name), self._failed)

    def close_panel(self) -> None:
        self.timer.stop()
        self.models.close()

    # -- choosing what to show ----------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        if epoch not in self.frames:
            try:
                self.frames[epoch] = self.store.load(epoch)
            except Exception as exc:
                self._failed(exc)
                return
        self.frame = self.frames[epoch]
        self.dropped = {}
        self.epoch_slider.blockSignals(True)
        self.epoch_slider.setValue(self.epochs.index(epoch))
        self.epoch_slider.blockSignals(False)
        self.epoch_label.setText(f"{epoch}  (of {self.epochs[-1]})")
        self.probe.setMaximum(len(self.frame.images))
        self._use_probe()

    def _use_probe(self) -> None:
        if self.frame is not None and not self.dropped:
            self._refresh_trace()

    def _refresh_trace(self) -> None:
        random = self.random.isChecked()
        if self.dropped:
            self.trace = self.dropped["random" if random else "mean"]
        elif self.frame is not None:
            f, i = self.frame, self.probe.value() - 1
            if not 0 <= i < len(f.images):
                return
            locations = f.random_locations[i] if random else f.locations[i]
            probs = f.random_probabilities[i] if random else f.probabilities[i]
            self.trace = Trace(f.images[i], locations, probs, self.sensor, int(f.labels[i]),
                               source=f"probe {i + 1} · epoch {f.epoch}")
        else:
            return
        self.step_slider.blockSignals(True)
        self.step_slider.setRange(1, self.trace.steps)
        if not self.timer.isActive():
            self.step_slider.setValue(self.trace.steps)
        self.step_slider.blockSignals(False)
        self._draw()

    # -- playing ------------------------------------------------------------------------------
    def play(self, on: bool) -> None:
        self._show_play(on)
        if on:
            if self.step_slider.value() >= self.step_slider.maximum():
                self.step_slider.setValue(1)
            self.timer.start()
        else:
            self.timer.stop()

    def _show_play(self, playing: bool) -> None:
        icon = QStyle.SP_MediaPause if playing else QStyle.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setToolTip("Stop stepping through the glimpses" if playing else
                                    "Step through the glimpses one by one")

    def _advance(self) -> None:
        value = self.step_slider.value()
        self.step_slider.setValue(1 if value >= self.step_slider.maximum() else value + 1)

    # -- drawing ------------------------------------------------------------------------------
    def _draw(self) -> None:
        trace = self.trace
        if trace is None:
            return
        step = self.step_slider.value()
        self.step_label.setText(f"step {step} of {trace.steps}")
        policy = "random fixations" if self.random.isChecked() else "learned policy"
        self.scanpath.show_trace(trace.image, trace.locations, step=step,
                                 title=f"Where it looks · {policy}", caption=trace.source,
                                 **trace.sensor)
        self._draw_strip(trace, step)
        probs = trace.probabilities[step - 1]
        self.bars.setOpts(x=np.arange(len(probs)), height=probs)
        ticks = [(i, self._name(i)) for i in range(len(probs))]
        self.bars_plot.getAxis("bottom").setTicks([ticks])
        self.bars_plot.setTitle(f"Class probabilities after glimpse {step}")
        best = [int(np.argmax(p)) for p in trace.probabilities]
        path = " → ".join(f"{self._name(b)} ({trace.probabilities[t, b]:.0%})"
                          for t, b in enumerate(best))
        truth = f" · true class <b>{self._name(trace.label)}</b>" if trace.label is not None \
            else ""
        self.answer.setText(f"Answer after each glimpse: {path}{truth}")
        self.updated.emit()

    def _draw_strip(self, trace: Trace, step: int) -> None:
        g, k, steps = trace.sensor["patch"], trace.sensor["scales"], trace.steps
        unit = glimpse_unit(trace.glimpses)
        unit[step:] = 0            # later glimpses stay dark until the slider gets there
        # rows: scales (finest on top); columns: steps
        patches = np.concatenate([unit[:, s] for s in range(k)])
        rgb = np.repeat(patches, 3, axis=-1) if patches.shape[-1] == 1 else patches[..., :3]
        self.strip.show_mosaic(tile(rgb, cols=steps, gap=1), "gray",
                               caption=f"{k} scales × {steps} glimpses of {g}×{g}; each "
                               "patch stretched to its own brightest pixel")

    def _name(self, index) -> str:
        index = int(index)
        return self.class_names[index] if 0 <= index < len(self.class_names) else str(index)

    # -- answers and plumbing -------------------------------------------------------------------
    def _looked(self, out: dict, name: str) -> None:
        self.dropped = {mode: Trace(r["image"], r["locations"], r["probabilities"],
                                    self.sensor, glimpses=r["glimpses"] * 255.0,
                                    source=f"{name} · " + ("; ".join(
                                        s.split(":")[0] for s in r["adapted"]) or "as is"))
                        for mode, r in out.items()}
        self.status.setText(f"The model looked at {name}: answer "
                            f"<b>{out['mean']['class']}</b> ({out['mean']['probability']:.0%}). "
                            "Move the epoch slider to go back to the probe images.")
        self._refresh_trace()

    def _failed(self, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"⚠ {text}")
        self.updated.emit()

    def _dataset_info(self) -> dict:
        from cnnstudio.core.training.rundir import RunDir

        return RunDir(self.run_dir).read_json("dataset.json", {}) or {}

    def _reset(self, path: Path) -> None:
        if self.run_dir != path:
            self.models.close()
        self.run_dir = path
        self.models.set_run(path)
        self.store = ram_probes.GlimpseStore(path)
        self.epochs, self.frames, self.frame, self.dropped, self.trace = [], {}, None, {}, None
        self.sensor = sensor_options(path)
        self.class_names = [str(c) for c in self._dataset_info().get("class_names") or []]
        self.scanpath.blank()

    def _load_epochs(self) -> None:
        self.epochs = self.store.epochs()
        self._refresh_epochs(follow=True)

    def _refresh_epochs(self, follow: bool) -> None:
        at_end = self.frame is None or self.epoch_slider.value() >= self.epoch_slider.maximum()
        self.epoch_slider.blockSignals(True)
        self.epoch_slider.setRange(0, max(0, len(self.epochs) - 1))
        self.epoch_slider.blockSignals(False)
        if self.epochs and ((follow and at_end and not self.dropped) or self.frame is None):
            self.set_epoch(self.epochs[-1])
