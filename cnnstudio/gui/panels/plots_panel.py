"""Live training curves: per batch (faint raw, smoothed line), validation per epoch, other
runs overlaid. Which plots and series there are comes from the run's task profile
(a classifier: loss and accuracy; a GAN: D and G losses, mean D(x) and D(G(z))).

Plot items are created once and fed with ``setData``; batches are buffered in
numpy arrays and drawn at most every ``REDRAW_MS`` (a fast run may finish
hundreds of batches a second). Long curves use peak downsampling and clip-to-view.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.families.profile import CLASSIFIER, Profile
from cnnstudio.gui.theme import LIGHT, OVERLAY_COLOURS, Theme
from cnnstudio.gui.widgets.elided_label import ElidedLabel

REDRAW_MS = 400        # ~2.5 redraws a second: live to the eye; each costs the CPU training needs
SMOOTHING = 0.1         # weight of the newest batch in the smoothed training curve


class Series:
    """A growable (x, y) buffer."""

    def __init__(self):
        self.x = np.empty(256)
        self.y = np.empty(256)
        self.n = 0

    def add(self, x: float, y: float) -> None:
        if self.n == len(self.x):
            self.x = np.resize(self.x, 2 * self.n)
            self.y = np.resize(self.y, 2 * self.n)
        self.x[self.n], self.y[self.n] = x, y
        self.n += 1

    def clear(self) -> None:
        self.n = 0

    def data(self):
        return self.x[:self.n], self.y[:self.n]


class PlotsPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.theme = LIGHT
        self.profile: Profile | None = None
        # A long run name is cut to fit, never widening the window (its tooltip has it all).
        self.title = ElidedLabel("No run yet: press Train, or open a run from the Runs panel.")
        self.title.setObjectName("heading")
        self.log_box = QCheckBox("Log-scale loss")
        self.log_box.setToolTip("Show the loss on a logarithmic axis: late, small "
                                "improvements stay visible.")
        self.log_box.toggled.connect(self._log_toggled)
        self.clear_button = QPushButton("Clear comparisons")
        self.clear_button.setToolTip("Remove the runs overlaid from the Runs panel.")
        self.clear_button.clicked.connect(self.clear_overlays)
        self.readout = QLabel(" ")
        self.readout.setToolTip("Values under the mouse pointer.")
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.log_box)
        top.addWidget(self.clear_button)
        self.stack = QStackedWidget()         # one plot layout per kind of curves seen
        self._layouts: dict[tuple, tuple] = {}
        self.plots: list = []
        self.curves: dict = {}
        self.series: dict[str, Series] = {}
        self.overlays: dict[str, list] = {}
        self.set_batching(0, 0)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.flush)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.readout)
        self.set_profile(CLASSIFIER)

    # -- which curves ------------------------------------------------------
    def set_profile(self, profile: Profile) -> None:
        """Show one plot per ``profile.plots`` entry. Plot items are made once per kind of
        curves and kept (switching back costs nothing, and no Qt item is ever deleted
        under a live Python wrapper); they are fed with ``setData`` afterwards."""
        self.profile = profile
        if profile.plots not in self._layouts:
            self._layouts[profile.plots] = self._build_layout(profile)
        widget, plots, curves = self._layouts[profile.plots]
        if widget is getattr(self, "layout_widget", None):
            return
        self.clear_overlays()
        self.layout_widget, self.plots, self.curves = widget, plots, curves
        self.stack.setCurrentWidget(widget)
        self.series = {key: Series() for key in self.curves}
        self.set_batching(*self._batching)
        self.log_box.setVisible(any(p.log_y for p in profile.plots))
        self._log_toggled(self.log_box.isChecked())
        self.apply_theme(self.theme)

    def _build_layout(self, profile: Profile) -> tuple:
        widget = pg.GraphicsLayoutWidget()
        plots, curves = [], {}
        for col, spec in enumerate(profile.plots):
            plot = widget.addPlot(row=0, col=col, title=spec.title)
            _narrow_title(plot.titleLabel)
            plot.spec = spec
            plot.setLabel("bottom", "epoch")
            plot.showGrid(x=True, y=True, alpha=0.25)
            for axis in ("left", "bottom"):
                # The grid belongs to the axis items and spans the plot, so every new point
                # repainted the axes' text; cached, they are only redrawn when their range
                # moves (the largest GUI cost while training, by profile).
                plot.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            # Small type: on a laptop screen a legend must not hide the curves (drag it away
            # if it does: pyqtgraph legends move with the mouse).
            plot.addLegend(offset=(-10, 10) if col == 0 else (-10, -10), labelTextSize="8pt",
                           verSpacing=-6)
            several = len(spec.series) > 1
            for s in spec.series:
                curves[s.key] = plot.plot()         # raw batches: faint, no legend entry
                curves["smooth_" + s.key] = plot.plot(
                    name=f"{s.label} (per batch, smoothed)" if several
                    else "training (per batch, smoothed)")
                if spec.validation:
                    curves["val_" + s.key] = plot.plot(
                        name=f"validation {s.label}" if several else "validation (each epoch)",
                        symbol="o", symbolSize=7)
            if spec.y_range:
                plot.setYRange(*spec.y_range, padding=0.02)
            line = pg.InfiniteLine(angle=90, movable=False)
            line.setZValue(10)
            plot.addItem(line, ignoreBounds=True)
            plot.crosshair = line
            plot.scene().sigMouseMoved.connect(lambda pos, p=plot: self._mouse_moved(p, pos))
            plots.append(plot)
        self.stack.addWidget(widget)
        return widget, plots, curves

    def _log_toggled(self, on: bool) -> None:
        for plot in self.plots:
            plot.setLogMode(y=on and plot.spec.log_y)

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        for widget, _plots, _curves in self._layouts.values():
            widget.setBackground(theme.plot_bg)
        for plot in self.plots:
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setPen(theme.plot_fg)
                plot.getAxis(axis).setTextPen(theme.plot_fg)
            plot.titleLabel.setText(plot.titleLabel.text, color=theme.plot_fg)
            plot.crosshair.setPen(pg.mkPen(theme.muted, style=Qt.DotLine))
            plot.legend.setLabelTextColor(theme.plot_fg)
            for i, s in enumerate(plot.spec.series):
                train = theme.train if i == 0 else OVERLAY_COLOURS[(i - 1) % len(OVERLAY_COLOURS)]
                val = theme.val if i == 0 else train
                faint = pg.mkColor(train)
                faint.setAlpha(70)
                thick = theme.line_scale          # the contrast theme's lines are thicker
                self.curves[s.key].setPen(pg.mkPen(faint, width=thick))
                self.curves["smooth_" + s.key].setPen(pg.mkPen(train, width=2 * thick))
                if ("val_" + s.key) in self.curves:
                    curve = self.curves["val_" + s.key]
                    curve.setPen(pg.mkPen(val, width=2.5 * thick,
                                          style=Qt.SolidLine if i == 0 else Qt.DashLine))
                    curve.setSymbolBrush(val)
                    curve.setSymbolPen(theme.plot_bg)

    # -- the current run ---------------------------------------------------
    def reset(self, title: str, batch_size: int = 0, num_train: int = 0) -> None:
        self.title.setText(title)
        for s in self.series.values():
            s.clear()
        self.set_batching(batch_size, num_train)
        self.set_span(None)
        self.flush()

    def set_span(self, epochs: int | None) -> None:
        """Show the whole planned run on the x axis (None: fit the data).

        A fixed x range also lets pyqtgraph keep its axis pictures between redraws;
        repainting tick labels on every redraw was the studio's largest GUI cost while
        training.
        """
        for plot in self.plots:
            if epochs:
                plot.enableAutoRange(x=False)
                plot.setXRange(0, epochs, padding=0.02)
            else:
                plot.enableAutoRange(x=True)

    def set_batching(self, batch_size: int, num_train: int) -> None:
        """Batch sizes turn Keras's running means back into per-batch values exactly."""
        self._batching = (batch_size, num_train)
        self._previous: dict[str, tuple[int, int, float]] = {}    # key → (epoch, seen, mean)
        self._smooth: dict[str, float] = {}

    def add_batches(self, batches) -> None:
        for b in batches:
            self._add_batch(b.epoch, b.step, b.steps, b.logs)
        self._schedule()

    def _add_batch(self, epoch: int, step: int, steps: int, logs: dict) -> None:
        # Keras 3 reports, after each batch, the mean since the epoch began; the batch's
        # own value is recovered from two consecutive means weighted by images seen.
        x = epoch - 1 + step / steps
        size, total = self._batching
        for key in self.profile.keys():
            if key not in logs:
                continue
            mean = float(logs[key])
            seen = min(step * size, total) if size and total else step
            last_epoch, last_seen, last_mean = self._previous.get(key, (epoch, 0, 0.0))
            if last_epoch != epoch or last_seen >= seen:
                last_seen, last_mean = 0, 0.0
            value = (seen * mean - last_seen * last_mean) / (seen - last_seen)
            self._previous[key] = (epoch, seen, mean)
            smooth = self._smooth.get(key, value)
            smooth += SMOOTHING * (value - smooth)
            self._smooth[key] = smooth
            self.series[key].add(x, value)
            self.series["smooth_" + key].add(x, smooth)

    def add_epoch(self, epoch, logs: dict) -> None:
        for key in self.profile.keys():
            if "val_" + key in logs and "val_" + key in self.series:
                self.series["val_" + key].add(epoch, logs["val_" + key])
        self._schedule()
    def add_batch_records(self, records) -> None:
        """Batches read back from metrics.jsonl (a run another process is writing)."""
        for r in records:
            self._add_batch(r["epoch"], r["step"], max(1, r["steps"]), r.get("logs", {}))
        self._schedule()

    def load_records(self, title: str, batch_records, epoch_records, batching=(0, 0)) -> None:
        """Restore a run's curves from its metrics.jsonl records."""
        self.reset(title, *batching)
        for r in batch_records:
            self._add_batch(r["epoch"], r["step"], max(1, r["steps"]), r.get("logs", {}))
        for r in epoch_records:
            self.add_epoch(r["epoch"], r.get("logs", {}))
        self.flush()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        self._timer.stop()
        for key, curve in self.curves.items():
            curve.setData(*self.series[key].data())

    def stop_timers(self) -> None:
        self._timer.stop()

    def point_counts(self) -> dict[str, int]:
        """Points held by each plot item (what the tests check)."""
        return {key: 0 if curve.xData is None else len(curve.xData)
                for key, curve in self.curves.items()}

    def values(self, key: str):
        return self.series[key].data()

    # -- comparisons -------------------------------------------------------
    def add_overlay(self, name: str, epoch_records) -> None:
        self.remove_overlay(name)
        colour = OVERLAY_COLOURS[len(self.overlays) % len(OVERLAY_COLOURS)]
        x = np.asarray([r["epoch"] for r in epoch_records], float)
        items = []
        for plot in self.plots:
            for metric, style in ((m, st) for s in plot.spec.series
                                  for m, st in ((s.key, Qt.DashLine),
                                                ("val_" + s.key, Qt.SolidLine))):
                y = np.asarray([r["logs"].get(metric, np.nan) for r in epoch_records], float)
                if np.isnan(y).all():
                    continue
                label = f"{name} · {'validation' if metric.startswith('val') else 'training'}"
                items.append((plot, plot.plot(x, y, name=label, symbol="t", symbolSize=6,
                                              pen=pg.mkPen(colour, width=1.5, style=style),
                                              symbolBrush=colour)))
        self.overlays[name] = items

    def remove_overlay(self, name: str) -> None:
        for plot, item in self.overlays.pop(name, []):
            plot.removeItem(item)

    def clear_overlays(self) -> None:
        for name in list(self.overlays):
            self.remove_overlay(name)

    # -- crosshair -----------------------------------------------------------
    def _mouse_moved(self, plot, pos) -> None:
        if not plot.sceneBoundingRect().contains(pos):
            return
        x = plot.vb.mapSceneToView(pos).x()
        for each in self.plots:
            each.crosshair.setPos(x)
        parts = [f"epoch {x:.2f}"]
        labels = [(s.key, s.label) for p in self.plots for s in p.spec.series]
        for key, label in labels + [("val_" + k, "val. " + v) for k, v in labels]:
            if key not in self.series:
                continue
            xs, ys = self.series[key].data()
            if len(xs):
                i = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
                parts.append(f"{label} {ys[i]:.4f}")
        self.readout.setText(" · ".join(parts))


def _narrow_title(label, width: int = 60) -> None:
    """A plot's title may be cut on a narrow screen; it must not hold the plots wider than
    the tab (the last plot would be cut off instead). pyqtgraph sets a title's minimum
    width to its text's on every setText (the theme's colours too), so after its own."""
    own = label.updateMin

    def update_min() -> None:
        own()
        label.setMinimumWidth(width)

    label.updateMin = update_min
    update_min()
