"""How sure is it: the Calibration tab of classifier runs (issue 27, section 4).

- the reliability diagram of the epoch on the slider: the accuracy of each confidence bin
  against the diagonal of perfect calibration, each bar labelled with its image count;
- the expected calibration error (ECE) of every epoch as a curve, the slider's epoch marked;
- "Fit temperature": T fitted on the run's held-out images (on the model's own thread or
  an inference copy: ``ModelAccess``), T and the ECE before → after, the calibrated
  diagram drawn over the last epoch's;
- "Calibrated predictions": the prediction dock uses T (kept in the run's calibration.json).

The per-epoch records come from ``core/probes/calibration_record.py``: live through
ProbeReady("calibration"), or read from the run folder when a run is opened.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cnnstudio.core.families.classification import calibration_run as cr
from cnnstudio.core.probes.calibration import BINS, Reliability
from cnnstudio.core.probes.calibration_record import CalibrationFrame, CalibrationStore
from cnnstudio.gui.model_access import Answers, ModelAccess
from cnnstudio.gui.widgets.epoch_replay import EpochReplay

BAR = "#4c9be8"
AFTER = "#e37400"
GAP = "#dc3c3c"      # outlined: the bar's distance to its mean confidence, over or under


def describe(frame: CalibrationFrame, rel: Reliability, meta: dict) -> str:
    """One line under the diagram: the ECE, on what, and which way the model errs."""
    split = meta.get("split", "held-out")
    mood = ("over-confident" if rel.mean_confidence > rel.overall_accuracy + 0.01 else
            "under-confident" if rel.mean_confidence < rel.overall_accuracy - 0.01 else
            "well calibrated")
    note = " (the run has no validation split)" if split == "test" else ""
    return (f"Epoch {frame.epoch}: ECE {frame.ece:.4f} on {rel.total} {split} images{note} — "
            f"accuracy {rel.overall_accuracy:.1%}, mean confidence {rel.mean_confidence:.1%}: "
            f"{mood}")


def fit_text(result: dict) -> str:
    text = (f"T = {result['temperature']:.3f} (fitted on {result['images']} "
            f"{result['fitted_on']} images): ECE {result['ece_before']:.4f} → "
            f"{result['ece_after']:.4f}")
    test = result.get("test")
    if test:
        text += f"; on {test['images']} test images {test['ece_before']:.4f} → " \
                f"{test['ece_after']:.4f}"
    return text


class CalibrationPanel(QWidget):
    updated = Signal()          # a diagram was drawn (tests, screenshots)
    fitted = Signal()           # a temperature came back and was saved
    failed = Signal(str)

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.store: CalibrationStore | None = None
        self.meta: dict = {}
        self.calibration: dict | None = None        # calibration.json of the run
        self.history: dict[int, float] = {}         # epoch → ECE
        self.shown_reliability: Reliability | None = None
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)

        self.replay = EpochReplay(self.show_frame, "no calibration records yet")
        self.fit_button = QPushButton("Fit temperature")
        self.fit_button.setToolTip(
            "Temperature scaling: find the one number T that, dividing the network's logits, "
            "makes its confidence match its accuracy on the held-out images (T > 1 softens "
            "an over-confident network). The predicted class never changes.")
        self.fit_button.setEnabled(False)
        self.use_box = QCheckBox("Calibrated predictions")
        self.use_box.setToolTip("The prediction dock shows probabilities divided by the fitted "
                                "temperature (kept in the run folder's calibration.json)")
        self.use_box.setEnabled(False)
        self.diagram = pg.PlotWidget(title="Reliability diagram")
        self.diagram.setLabel("bottom", "confidence (top-1 probability)")
        self.diagram.setLabel("left", "accuracy")
        self.diagram.setRange(xRange=(0, 1), yRange=(0, 1.08), padding=0.02)
        self.diagram.setMouseEnabled(False, False)
        self.diagram.addLegend(offset=(10, 10))
        self.diagram.plot([0, 1], [0, 1], pen=pg.mkPen("#8a8a8a", style=pg.QtCore.Qt.DashLine),
                          name="perfect")
        self.bars = pg.BarGraphItem(x=[], height=[], width=1 / BINS, brush=BAR, name="accuracy")
        self.gaps = pg.BarGraphItem(x=[], y0=[], height=[], width=1 / BINS, brush=None,
                                    pen=pg.mkPen(GAP, width=2), name="gap to confidence")
        self.diagram.addItem(self.bars)
        self.diagram.addItem(self.gaps)
        # Points, not a line: bins are separate measurements.
        self.after = self.diagram.plot([], [], pen=None, symbol="o", symbolBrush=AFTER,
                                       symbolPen=None, symbolSize=8, name="after T")
        self.count_labels: list[pg.TextItem] = []
        self.curve_plot = pg.PlotWidget(title="ECE per epoch")
        self.curve_plot.setLabel("bottom", "epoch")
        self.curve_plot.setLabel("left", "ECE")
        self.curve_plot.getAxis("left").enableAutoSIPrefix(False)
        self.curve = self.curve_plot.plot([], [], pen=pg.mkPen(BAR, width=2), symbol="o",
                                          symbolSize=5, symbolBrush=BAR)
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(AFTER))
        self.curve_plot.addItem(self.marker)
        self.summary = QLabel("Train a classifier or open a classifier run.", wordWrap=True)
        self.fit_label = QLabel("", wordWrap=True)
        self.status = QLabel("", wordWrap=True)
        self.status.setObjectName("muted")
        plots = QHBoxLayout()
        plots.addWidget(self.diagram, 3)
        plots.addWidget(self.curve_plot, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(self.replay.bar(self.fit_button, self.use_box))
        layout.addLayout(plots, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.fit_label)
        layout.addWidget(self.status)
        self.fit_button.clicked.connect(lambda: self.fit_temperature())
        self.use_box.toggled.connect(self._use_toggled)

    # -- the registry's hooks -------------------------------------------------------------
    def run_started(self, event) -> None:
        self.set_run(event.run_dir)

    def open_run(self, path) -> None:
        self.set_run(path)

    def epoch_done(self, event) -> None:
        self.replay.expect(event.epoch)        # its record follows, off the training thread

    def probe_ready(self, event) -> None:
        if event.name != "calibration" or not isinstance(event.payload, CalibrationFrame):
            return
        if not self.meta and self.store is not None:
            self.meta = self.store.meta()
        self.history[event.epoch] = event.payload.ece
        self._draw_curve()
        self.replay.live(event.payload)

    def run_finished(self, event) -> None:
        if self.run_dir is not None:
            self.replay.reload()
            self._read_history()

    def busy(self) -> bool:
        """Screenshot mode waits for the live epoch's record and for a fit in flight."""
        return self.replay.waiting()

    def close_panel(self) -> None:
        self.models.close()

    # -- a run --------------------------------------------------------------------------
    def set_run(self, run_dir) -> None:
        self.run_dir = Path(run_dir) if run_dir else None
        self.models.set_run(self.run_dir)
        self.store = CalibrationStore(self.run_dir) if self.run_dir else None
        self.meta = self.store.meta() if self.store else {}
        self.calibration = cr.read_calibration(self.run_dir) if self.run_dir else None
        self.fit_button.setEnabled(self.run_dir is not None)
        self._show_calibration()
        self._read_history()
        self.replay.set_store(self.store)
        if not self.replay.epochs:
            self._draw(None)
            self.summary.setText("No calibration records yet: they come with each epoch of a "
                                 "classifier run (runs trained before this tab have none; "
                                 "Fit temperature still works on their model).")

    def _read_history(self) -> None:
        if self.store is None:
            return
        epochs, values = self.store.ece_history()
        self.history = dict(zip(epochs, values, strict=True))
        self._draw_curve()

    # -- drawing ------------------------------------------------------------------------
    def show_frame(self, frame: CalibrationFrame) -> None:
        if not self.meta and self.store is not None:
            self.meta = self.store.meta()
        rel = frame.reliability(int(self.meta.get("bins", BINS)))
        self._draw(rel)
        self.marker.setValue(frame.epoch)
        self.summary.setText(describe(frame, rel, self.meta))
        last = self.replay.epochs and frame.epoch == self.replay.epochs[-1]
        self._draw_after(self.calibration if last else None)
        self.updated.emit()

    def _draw(self, rel: Reliability | None) -> None:
        self.shown_reliability = rel
        for label in self.count_labels:
            self.diagram.removeItem(label)
        self.count_labels = []
        if rel is None:
            self.bars.setOpts(x=[], height=[])
            self.gaps.setOpts(x=[], y0=[], height=[])
            return
        width = 1.0 / len(rel.counts)
        filled = rel.counts > 0                  # an empty bin has no accuracy: no bar
        centres = ((rel.edges[:-1] + rel.edges[1:]) / 2)[filled]
        heights = rel.accuracy[filled]
        self.bars.setOpts(x=centres, height=heights, width=width * 0.9)
        self.gaps.setOpts(x=centres, y0=heights, height=rel.confidence[filled] - heights,
                          width=width * 0.9)
        tops = np.maximum(heights, rel.confidence[filled])       # above the bar and its gap
        for x, top, n in zip(centres, tops, rel.counts[filled], strict=True):
            label = pg.TextItem(str(int(n)), anchor=(0.5, 1.0), color="#8a8a8a")
            label.setPos(float(x), float(top) + 0.005)
            self.diagram.addItem(label)
            self.count_labels.append(label)

    def _draw_after(self, calibration: dict | None) -> None:
        after = (calibration or {}).get("reliability_after")
        if not after:
            self.after.setData([], [])
            return
        acc = np.array([np.nan if v is None else v for v in after["accuracy"]], float)
        conf = np.array([np.nan if v is None else v for v in after["confidence"]], float)
        keep = np.isfinite(acc) & np.isfinite(conf)
        self.after.setData(conf[keep], acc[keep])

    def _draw_curve(self) -> None:
        epochs = sorted(self.history)
        self.curve.setData(epochs, [self.history[e] for e in epochs])

    # -- temperature scaling --------------------------------------------------------------
    def fit_temperature(self) -> None:
        if self.run_dir is None:
            self.failed.emit("no run is open")
            return
        run_dir = self.run_dir
        self.fit_button.setEnabled(False)
        self.status.setText("Fitting the temperature on the held-out images…")
        self.models.submit("fit", lambda model: cr.calibrate_model(model, run_dir),
                           lambda result: self._fitted(run_dir, result), self._fit_failed)

    def _fitted(self, run_dir: Path, result: dict) -> None:
        self.fit_button.setEnabled(True)
        if run_dir != self.run_dir:
            return                               # another run was opened meanwhile
        use = self.use_box.isChecked() if self.calibration else True
        try:
            cr.save_calibration(run_dir, result, use)
        except OSError as exc:
            self._fit_failed(exc)
            return
        self.calibration = {**result, "use": use}
        self.status.setText(f"Saved in {run_dir.name}/{cr.FILE}")
        self._show_calibration()
        if self.replay.current is not None:
            self.show_frame(self.replay.frame(self.replay.current))
        self.fitted.emit()

    def _fit_failed(self, error) -> None:
        self.fit_button.setEnabled(self.run_dir is not None)
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"Fitting the temperature failed: {message}")
        self.failed.emit(message)

    def _show_calibration(self) -> None:
        data = self.calibration
        self.use_box.blockSignals(True)
        self.use_box.setEnabled(data is not None)
        self.use_box.setChecked(bool(data and data.get("use")))
        self.use_box.blockSignals(False)
        self.fit_label.setText(fit_text(data) if data else
                               "No temperature fitted yet: Fit temperature finds it.")

    def _use_toggled(self, on: bool) -> None:
        if self.run_dir is None or self.calibration is None:
            return
        try:
            self.calibration = cr.set_use(self.run_dir, on)
        except (OSError, ValueError) as exc:
            self.status.setText(f"calibration.json not changed: {exc}")
            return
        self.status.setText("The prediction dock now shows calibrated probabilities (T = "
                            f"{self.calibration['temperature']:.3f})." if on else
                            "The prediction dock shows the network's own probabilities.")
