"""Fool it: adversarial examples for a classification run (FGSM and PGD).

    panel.open_run(run_dir); panel.set_image(image_uint8, "test #3")
    panel.eps_slider → the adversarial image, the perturbation made visible, top-5 before
    and after, recomputed as the slider moves; "Targeted" + a class: make it say that class
    panel.curve_button → accuracy against ε on 500 test images, a row of examples per ε, and
    the same curve of a sibling run trained the other way (``adversarial`` on or off) beside it

The model work runs where the model lives (``ModelAccess``); one request is in flight at a
time and only the newest waiting one follows it, so a fast slider never queues a backlog.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import StudioError
from cnnstudio.core.probes import adversarial as adv
from cnnstudio.core.probes import adversarial_training
from cnnstudio.core.probes.adversarial_curve import accuracy_curve, example_grid, sample_test_split
from cnnstudio.core.training.run_siblings import read_config
from cnnstudio.gui.families.classification.adversarial_compare import SiblingCurve, rename
from cnnstudio.gui.model_access import Answers, ModelAccess
from cnnstudio.gui.widgets.mosaic import MosaicView
from cnnstudio.gui.widgets.prediction_view import FileDrops
from cnnstudio.gui.widgets.top_bars import TopBars

EPS_PER_TICK = 0.005          # the slider's step on the 0..1 scale (≈ 1.3 grey levels)
EPS_TICKS = 60                # up to ε = 0.3
CURVE_SAMPLE = 500
# The CLI's ten: with the compiled input gradient a LeNet step costs ~1 ms on a CPU, so a
# whole 10-step PGD update takes ~14 ms (it took ~170 ms eagerly).
PANEL_PGD_STEPS = adv.PGD_STEPS


def rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[:, :, :3]


class AdversarialPanel(FileDrops, QWidget):
    updated = Signal()            # an attack was drawn (tests wait on this)
    curveReady = Signal()         # the test-set curve was drawn

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.image: np.ndarray | None = None
        self.caption = ""
        self.class_names: list[str] = []
        self.result: adv.Adversarial | None = None
        self.curve = None
        self.latency_ms: float | None = None     # request → drawn, of the last update
        self._cache: dict = {}                    # per image: probabilities, FGSM's signs
        self._in_flight = False
        self._waiting: tuple | None = None
        self._stale = False                       # changed while hidden: redo when shown
        self._generation = 0                      # bumped when the image or the model changes
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)
        self.setAcceptDrops(True)

        self.method_box = QComboBox()
        self.method_box.addItem("FGSM (one step)", "fgsm")
        self.method_box.addItem(f"PGD ({PANEL_PGD_STEPS} projected steps)", "pgd")
        self.method_box.setToolTip("FGSM moves every pixel by ε along the sign of the loss "
                                   "gradient; PGD takes several smaller steps, each kept "
                                   "within ε of the image")
        self.eps_slider = QSlider(Qt.Horizontal)
        self.eps_slider.setRange(0, EPS_TICKS)
        self.eps_slider.setValue(20)
        self.eps_slider.setMinimumWidth(180)
        self.eps_label = QLabel()
        self.eps_label.setMinimumWidth(190)
        self.targeted = QCheckBox("Targeted:")
        self.targeted.setToolTip("Push toward the chosen class instead of away from the "
                                 "predicted one")
        self.target_box = QComboBox()
        self.target_box.setEnabled(False)
        self.open_button = QPushButton("Open image…")
        self.curve_button = QPushButton("Test-set curve")
        self.curve_button.setToolTip(f"Accuracy against ε on {CURVE_SAMPLE} test images "
                                     "(untargeted, the chosen method), a row of examples per ε")
        bar = QHBoxLayout()
        for widget in (self.open_button, QLabel("Method"), self.method_box, QLabel("ε"),
                       self.eps_slider, self.eps_label, self.targeted, self.target_box):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.curve_button)

        self.original_view = MosaicView("Image", min_side=120)
        self.adversarial_view = MosaicView("Adversarial", min_side=120)
        self.perturbation_view = MosaicView("Perturbation (amplified)", min_side=120)
        self.before_bars, self.after_bars = TopBars(), TopBars()
        self.before_bars.accent = pg.mkColor("#1a73e8")
        self.after_bars.accent = pg.mkColor("#d93025")
        attack = QWidget()
        grid = QGridLayout(attack)
        for col, view in enumerate((self.original_view, self.adversarial_view,
                                    self.perturbation_view)):
            grid.addWidget(view, 0, col)
            grid.setColumnStretch(col, 1)
        grid.addWidget(QLabel("Top-5 before"), 1, 0)
        grid.addWidget(QLabel("Top-5 after"), 1, 1)
        grid.addWidget(self.before_bars, 2, 0)
        grid.addWidget(self.after_bars, 2, 1)
        grid.setRowStretch(0, 1)

        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "ε (fraction of 0..255)")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)      # ε, not "×0.001"
        self.plot.setLabel("left", "test accuracy")
        self.plot.setYRange(0, 1)
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.setMinimumHeight(140)
        self.plot.addLegend(offset=(-10, 10), brush=pg.mkBrush(0, 0, 0, 170))
        self.curve_line = self.plot.plot([], [], pen=pg.mkPen("#d93025", width=2), symbol="o",
                                         symbolSize=6, symbolBrush="#d93025", name="this run")
        self.compare = SiblingCurve(self.plot, self.answers, self)
        self.compare.ready.connect(self._curve_status)
        self.examples_view = MosaicView("Examples per ε", min_side=120)
        curve = QSplitter(Qt.Horizontal)
        curve.addWidget(self.plot)
        curve.addWidget(self.examples_view)
        split = QSplitter(Qt.Vertical)
        split.addWidget(attack)
        split.addWidget(curve)
        split.setSizes([420, 220])

        self.status = QLabel("Open a classification run, then pick, drop or open an image.")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #8a8a8a;")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

        self.eps_slider.valueChanged.connect(self._eps_moved)
        self.method_box.currentIndexChanged.connect(self.refresh)
        self.targeted.toggled.connect(self._targeted_toggled)
        self.target_box.currentIndexChanged.connect(self.refresh)
        self.open_button.clicked.connect(lambda: self.open_image())
        self.curve_button.clicked.connect(lambda: self.test_set_curve())
        self._show_eps()

    # -- the registry's hooks --------------------------------------------------------------
    def run_started(self, event) -> None:
        self.set_run(event.run_dir)

    def open_run(self, path) -> None:
        self.set_run(path)

    def epoch_done(self, event) -> None:
        self._forget()                   # new weights: new probabilities and gradients
        self._refresh_if_shown()

    def set_image(self, image, caption: str = "") -> None:
        self.image = np.asarray(image)
        self.caption = caption
        self._forget()
        self._refresh_if_shown()

    def _refresh_if_shown(self) -> None:
        # Hidden, it waits: an attack served on the training thread cost ~0.7 s of a live run.
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def _forget(self) -> None:
        """Answers still on their way are about another image or model: never drawn."""
        self._cache = {}
        self._generation += 1

    def shown(self) -> None:
        if self._stale or self.result is None:
            self._stale = False
            self.refresh()

    def close_panel(self) -> None:
        self.models.close()
        self.compare.close()

    def busy(self) -> bool:
        return self._in_flight

    # -- a run -------------------------------------------------------------------------
    def set_run(self, run_dir) -> None:
        from cnnstudio.core.training.rundir import RunDir

        self.models.set_run(run_dir)
        self._forget()
        self.result, self.curve = None, None
        self.curve_line.setData([], [])
        self.compare.clear()
        config = read_config(run_dir)
        if config is not None:
            rename(self.plot.plotItem.legend, self.curve_line,
                   "this run: " + adversarial_training.label(config))
        try:
            info = RunDir.open(run_dir).read_json("dataset.json", {}) or {}
        except Exception:        # a run folder being written: names come at the next open
            info = {}
        self.class_names = [str(n) for n in info.get("class_names") or []]
        self.target_box.blockSignals(True)
        self.target_box.clear()
        self.target_box.addItems(self.class_names)
        self.target_box.blockSignals(False)
        if self.image is None:
            self._first_probe_image(run_dir)
        self.refresh()

    def _first_probe_image(self, run_dir) -> None:
        from cnnstudio.core.probes.recorder import ProbeStore

        try:
            images, _ = ProbeStore(run_dir).images()
        except (OSError, KeyError, ValueError):       # no probes recorded (yet)
            return
        if len(images):
            self.image, self.caption = images[0], "probe image 1"

    def open_image(self, path=None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Image to attack", "",
                                                  "Images (*.png *.jpg *.jpeg *.bmp *.gif "
                                                  "*.tif *.tiff *.webp);;All files (*)")
            if not path:
                return
        from cnnstudio.core.imaging import read_image

        try:
            image = read_image(path)
        except StudioError as exc:
            self._failed(exc)
            return
        self.set_image(image, Path(path).name)

    def drop_file(self, path) -> None:
        self.open_image(path)

    # -- the attack --------------------------------------------------------------------
    @property
    def eps(self) -> float:
        return round(self.eps_slider.value() * EPS_PER_TICK, 6)

    def _show_eps(self) -> None:
        self.eps_label.setText(f"{self.eps:.3f}  (≤ {int(self.eps * 255)} grey levels)")

    def _eps_moved(self, _value: int) -> None:
        self._show_eps()
        self.refresh()

    def _targeted_toggled(self, on: bool) -> None:
        self.target_box.setEnabled(on)
        self.refresh()

    def request(self) -> tuple:
        target = self.target_box.currentIndex() if self.targeted.isChecked() else None
        return (self.method_box.currentData(), self.eps, target if target != -1 else None)

    def refresh(self) -> None:
        if self.image is None or self.models.run_dir is None:
            return
        if self._in_flight:              # newest wins: it follows the one under way
            self._waiting = self.request()
            return
        self._submit(self.request())

    def _submit(self, request: tuple) -> None:
        method, eps, target = request
        image, cache, started = self.image, self._cache, time.perf_counter()
        generation = self._generation
        self._in_flight = True
        self.status.setText(f"{method.upper()} at ε = {eps:.3f}…")

        def work(model):
            return adv.attack_image(model, image, eps, method, target, steps=PANEL_PGD_STEPS,
                                    cache=cache)

        self.models.submit("attack", work, lambda found: self._show(found, started, generation),
                           self._attack_failed)

    def _next(self) -> None:
        self._in_flight = False
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self._submit(waiting)

    def _attack_failed(self, error) -> None:
        self._next()
        self._failed(error)

    def _show(self, found: adv.Adversarial, started: float, generation: int) -> None:
        if generation != self._generation:
            self._next()
            return
        self.result = found
        names = [self.class_names[i] if i < len(self.class_names) else str(i)
                 for i in range(len(found.before))]
        change = int(np.abs(found.perturbation).max())
        before, now = names[found.label], int(np.argmax(found.after))
        self.original_view.show_image(rgb(found.original), "Image",
                                      f"{self.caption} · says {before} "
                                      f"{found.before[found.label]:.0%}")
        verdict = "fooled" if found.fooled else "not fooled"
        self.adversarial_view.show_image(rgb(found.image), f"Adversarial · {verdict}",
                                         f"says {names[now]} {found.after[now]:.0%}")
        self.perturbation_view.show_image(adv.amplified(found.perturbation),
                                          "Perturbation (amplified)",
                                          f"largest change ±{change} grey levels = "
                                          "black/white; grey = none")
        self.before_bars.set_rows(adv.top_k(found.before, names))
        self.after_bars.set_rows(adv.top_k(found.after, names))
        self.latency_ms = (time.perf_counter() - started) * 1000
        goal = (f"toward {names[found.target]}" if found.target is not None
                else f"away from {before}")
        self.status.setText(f"{found.method.upper()} ε = {found.eps:.3f} {goal}: {verdict} "
                            f"({self.latency_ms:.0f} ms)")
        self._next()
        self.updated.emit()

    def _failed(self, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"⚠ {text}")

    # -- accuracy against ε on the test set --------------------------------------------
    def test_set_curve(self, count: int = CURVE_SAMPLE, eps_values=None) -> None:
        run_dir = self.models.run_dir
        if run_dir is None:
            self._failed("open a classification run first")
            return
        method = self.method_box.currentData()
        kwargs = {} if eps_values is None else {"eps_values": eps_values}
        self.curve_button.setEnabled(False)
        self.curve = None            # a sibling's curve coming first waits for this one
        self.status.setText(f"{method.upper()} on {count} test images at each ε…")

        def work(model):
            images, labels, _ = sample_test_split(run_dir, count)
            return accuracy_curve(model, images, labels, method=method, steps=PANEL_PGD_STEPS,
                                  **kwargs)

        self.models.submit("curve", work, self._show_curve, self._curve_failed)
        self.compare.start(run_dir, count, method, PANEL_PGD_STEPS, eps_values)

    def _curve_failed(self, error) -> None:
        self.curve_button.setEnabled(True)
        self._failed(error)

    def _show_curve(self, curve) -> None:
        self.curve = curve
        self.curve_button.setEnabled(True)
        self.curve_line.setData(curve.eps_values, curve.accuracy)
        self.plot.setXRange(0, max(curve.eps_values) or 0.01)
        self.examples_view.show_image(rgb(example_grid(curve)),
                                      f"Examples: one row per ε ({curve.method.upper()})",
                                      "rows top to bottom: ε = " +
                                      ", ".join(f"{e:g}" for e in curve.eps_values))
        self._curve_status()
        self.curveReady.emit()

    def _curve_status(self) -> None:
        """This run's accuracy at each ε, then the sibling's (or why it has none)."""
        curve = self.curve
        if curve is None:
            return              # the sibling came first: said with this run's curve
        clean = curve.accuracy[0] if curve.eps_values[0] == 0 else None
        self.status.setText(
            f"{curve.method.upper()} on {curve.count} test images: " +
            " · ".join(f"ε {e:g}: {a:.0%}" for e, a in zip(curve.eps_values, curve.accuracy,
                                                           strict=True)) +
            (f" (clean {clean:.1%})" if clean is not None else "") +
            (f"\n{self.compare.summary()}" if self.compare.summary() else ""))
