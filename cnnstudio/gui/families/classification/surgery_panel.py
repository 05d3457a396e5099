"""Cut it: switch a classifier's convolution filters off and see what it loses.

    panel.open_run(run_dir)          # a private copy of the model, a test sample, the grid
    panel.toggle(3)                  # filter 3 of the chosen layer off (again: back on)
    panel.rank()                     # every filter of the layer by its accuracy drop
    panel.save_as("no-3")            # the cut model as a run of its own

The model is copied once where it lives (``ModelAccess``: between batches while its run
trains) into a ``surgery.Workbench`` on the panel's own worker thread; every click then
switches weights off and on in that copy, never in the run's model or its files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.probes import surgery
from cnnstudio.gui.families.classification.surgery_views import (
    ConfusionChange,
    RankingChart,
    filter_grid,
)
from cnnstudio.gui.model_access import Answers, ModelAccess, ModelRunner
from cnnstudio.gui.widgets.mosaic import MosaicView, refill_combo

SAMPLE = 500
AUTO_RANK_PARAMS = 2_000_000      # small models rank their layer on their own (≤ a second)


class Cancelled(Exception):
    """Raised from the ranking's progress callback: the panel closed or the run changed."""


class SurgeryPanel(QWidget):
    updated = Signal()          # accuracy and confusion drawn for the current cuts
    ranked = Signal()           # the ranking chart drawn
    saved = Signal(str)         # the new run's folder
    _progress = Signal(int)     # from the worker thread (an int crosses threads safely)

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir = None
        self.off: dict[str, set[int]] = {}        # layer → filters switched off
        self.kernels: dict[str, np.ndarray] = {}
        self.class_names: list[str] = []
        self.sample: tuple[np.ndarray, np.ndarray] | None = None
        self.base: dict | None = None             # the uncut model on the sample
        self.result: dict | None = None           # the model as cut now
        self.ranking: list[tuple[int, float, float]] = []
        self.bench: ModelRunner | None = None     # the Workbench, on its own thread
        self._jobs = 0
        self._stale = False
        self._cancel = False
        self._generation = 0
        self._params = self._ticket = 0
        self._asked = SAMPLE                      # the sample size asked for
        self._view = None
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)

        self.layer_box = QComboBox()
        self.sample_box = QSpinBox()
        self.sample_box.setRange(20, 100_000)
        self.sample_box.setSingleStep(100)
        self.sample_box.setValue(SAMPLE)
        self.sample_box.setSuffix(" test images")
        self.sample_box.setToolTip("How many test images score each cut (a fixed random "
                                   "sample; the whole test set if it is smaller)")
        self.reset_button = QPushButton("All back on")
        self.rank_button = QPushButton("Rank this layer's filters")
        self.rank_button.setToolTip("Switch each filter off alone and measure the accuracy "
                                    "lost (the filters off now stay off)")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(120)
        self.progress.setVisible(False)
        self.save_button = QPushButton("Save as new run…")
        self.save_button.setToolTip("Write the cut model as a run of its own beside this one; "
                                    "this run stays as it is")
        bar = QHBoxLayout()
        for widget in (QLabel("Layer"), self.layer_box, QLabel("Score on"), self.sample_box,
                       self.reset_button, self.rank_button, self.progress):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.save_button)

        self.grid = MosaicView("Filters — click one to switch it off or on", min_side=200)
        self.accuracy = QLabel("Open a classification run.")
        self.accuracy.setWordWrap(True)
        self.confusion = ConfusionChange()
        right = QWidget()
        side = QVBoxLayout(right)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.accuracy)
        side.addWidget(self.confusion, 1)
        self.chart = RankingChart()
        top = QSplitter(Qt.Horizontal)
        top.addWidget(self.grid)
        top.addWidget(right)
        top.setSizes([420, 420])
        split = QSplitter(Qt.Vertical)
        split.addWidget(top)
        split.addWidget(self.chart)
        split.setSizes([440, 170])
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #8a8a8a;")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

        self.layer_box.currentIndexChanged.connect(self._layer_changed)
        self.sample_box.editingFinished.connect(self._sample_changed)
        self.reset_button.clicked.connect(self.reset)
        self.rank_button.clicked.connect(lambda: self.rank())
        self.save_button.clicked.connect(lambda: self.save_as())
        self.grid.tileClicked.connect(self.toggle)
        self._progress.connect(self.progress.setValue, Qt.QueuedConnection)
        self._enable(False)

    # -- the registry's hooks -----------------------------------------------------------
    def run_started(self, event) -> None:
        self.set_run(event.run_dir)

    def open_run(self, path) -> None:
        self.set_run(path)

    def epoch_done(self, event) -> None:
        """New weights: a fresh copy (the filters switched off stay off)."""
        self._load_or_wait()

    def _load_or_wait(self) -> None:
        """Now if the tab is on screen, else when it comes to the front (a hidden tab's copy,
        served on the training thread, cost a live LeNet run ~0.85 s an epoch)."""
        if self.isVisible():
            self._load()
        else:
            self._stale = True

    def run_finished(self, event) -> None:
        self._load_or_wait()          # the final weights, from the saved model

    def shown(self) -> None:
        if self._stale or (self.bench is None and self.run_dir is not None and not self._jobs):
            self._load()

    def busy(self) -> bool:
        return self._jobs > 0

    def close_panel(self) -> None:
        self.run_dir = None             # an answer still on its way starts nothing
        self._close_bench()
        self.models.close()

    # -- a run ------------------------------------------------------------------------
    def set_run(self, run_dir) -> None:
        self.models.set_run(run_dir)
        self._close_bench()
        self._generation += 1           # answers about the run before are not drawn
        self.run_dir = run_dir
        self.off, self.kernels, self.ranking = {}, {}, []
        self.base = self.result = self.sample = None
        self.chart.draw([])
        self.grid.image_item.clear()
        self._load_or_wait()

    def _close_bench(self) -> None:
        self._cancel = True
        if self.bench is not None:
            self.bench.close()
            self.bench = None

    def _load(self) -> None:
        if self.run_dir is None:
            return
        self._close_bench()
        self._cancel, self._stale = False, False
        self._generation += 1
        generation = self._generation
        self.status.setText("copying the model…")
        self._start()
        # A key of its own per job: Answers drops superseded answers, and each must count off.
        self.models.submit(f"bench-{generation}", surgery.Workbench,
                           lambda bench: self._done_with(bench, generation, self._use_bench),
                           lambda error: self._done_with(error, generation, self._failed))

    def _done_with(self, answer, generation: int, then) -> None:
        """Every job ends here: counted off, and dropped if the run or its copy changed."""
        self._jobs -= 1
        if generation == self._generation and self.run_dir is not None:
            then(answer)
        else:
            self._enable(True)

    def _use_bench(self, bench) -> None:
        self.bench = ModelRunner(model=bench)
        self.ranking = []                           # new weights: rank again
        self.chart.draw([])
        self._params = bench.model.count_params()
        names = surgery.conv_layers(bench.model)
        self.kernels = {}
        refill_combo(self.layer_box, names)
        if not names:
            self.status.setText("This model has no convolution layers: no filters to cut.")
            return
        if self.layer_box.currentText() not in names or self.sample is None:
            self.layer_box.setCurrentIndex(len(names) - 1)     # the last: the most to see
        self._score(rescore_base=True)

    def _sample_changed(self) -> None:
        if self.sample is not None and self.sample_box.value() != self._asked:
            self.sample = None
            self._score(rescore_base=True)

    # -- cutting ----------------------------------------------------------------------
    @property
    def layer(self) -> str:
        return self.layer_box.currentText()

    def cuts(self) -> dict[str, list[int]]:
        return {name: sorted(f) for name, f in self.off.items() if f}

    def toggle(self, index: int) -> None:
        if self.layer not in self.kernels or not 0 <= index < self.kernels[self.layer].shape[-1]:
            return
        self.off.setdefault(self.layer, set()).symmetric_difference_update({index})
        self._draw_grid()
        self._score()

    def cut_filter(self, layer: str, index: int) -> None:
        """Switch filter ``index`` of ``layer`` off, or back on (the Filters tab's Ctrl+click)."""
        if layer not in [self.layer_box.itemText(i) for i in range(self.layer_box.count())]:
            self.status.setText(f"Cut it has not read {layer} yet (the model is still "
                                "loading): Ctrl+click the filter again in a moment.")
            return
        self.layer_box.setCurrentText(layer)
        if layer in self.kernels:
            self.toggle(index)
        else:                           # its kernels are on their way: toggled on arrival
            self._pending_cut = (layer, index)

    def reset(self) -> None:
        self.off = {}
        self._draw_grid()
        self._score()

    def _submit(self, key: str, fn, on_result) -> None:
        if self.bench is None:
            return
        self._start()
        generation, self._ticket = self._generation, self._ticket + 1
        self.answers.watch(f"{key}-{self._ticket}", self.bench.submit(fn),
                           lambda result: self._done_with(result, generation, on_result),
                           lambda error: self._done_with(error, generation, self._failed))

    def _start(self) -> None:
        self._jobs += 1
        self._enable(False)

    def _score(self, rescore_base: bool = False) -> None:
        run_dir, count, cuts, layer = self.run_dir, self.sample_box.value(), self.cuts(), \
            self.layer
        sample, need_kernels = self.sample, layer not in self.kernels
        if sample is None:
            self._asked = count

        def work(bench):
            from cnnstudio.core.probes.adversarial_curve import sample_test_split

            found = {}
            if sample is None:
                found["sample"] = sample_test_split(run_dir, count)
            x, y = (found["sample"][:2]) if sample is None else sample
            if rescore_base or sample is None:
                bench.set_cuts({})
                found["base"] = surgery.evaluate(bench.model, x, y)
            if need_kernels:
                found["kernels"] = surgery.filter_kernels(bench.model, layer)
            bench.set_cuts(cuts)
            found["result"] = surgery.evaluate(bench.model, x, y)
            return found

        self._submit("score", work, lambda found: self._scored(found, layer))

    def _scored(self, found: dict, layer: str) -> None:
        if "sample" in found:
            x, y, names = found["sample"]
            self.sample, self.class_names = (x, y), list(names)
        self.base = found.get("base", self.base)
        if "kernels" in found:
            self.kernels[layer] = found["kernels"]
            self._draw_grid()
            pending = getattr(self, "_pending_cut", None)
            if pending and pending[0] == layer:
                self._pending_cut = None
                self.toggle(pending[1])
                return                  # toggle() scores again, with the cut
        self.result = found["result"]
        before, after = self.base["accuracy"], self.result["accuracy"]
        count = sum(len(f) for f in self.cuts().values())
        which = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in self.cuts().items())
        self.accuracy.setText(
            f"<b>accuracy {after:.1%}</b> on {len(self.sample[1])} test images "
            + (f"(uncut {before:.1%}, <b>{100 * (after - before):+.1f} points</b>) · "
               f"{count} filter{'s' * (count != 1)} off — {which}" if count else
               "· nothing switched off yet")
            + "<br><small>Confusion of the cut model: count, and the change from the uncut "
              "model below it; red = worse, blue = better</small>")
        self.confusion.draw(self.base["confusion"], self.result["confusion"], self.class_names)
        self.status.setText("Click a filter to switch it off; click again to switch it back on.")
        self._enable(True)
        self.updated.emit()
        if not self.ranking and self._params <= AUTO_RANK_PARAMS:
            self.rank()

    def _layer_changed(self) -> None:
        self.ranking = []
        self.chart.draw([])
        self._draw_grid()
        if self.bench is not None and self.sample is not None:
            self._score()

    def _draw_grid(self) -> None:
        kernel = self.kernels.get(self.layer)
        if kernel is None:
            return
        off = self.off.get(self.layer, set())
        view, rgb = filter_grid(kernel, self.layer, off)
        same = self._view is not None and self._view.mosaic.image.shape == rgb.shape[:2]
        self._view = view
        self.grid.show_mosaic(view.mosaic, "CET-L1", view.title, f"{kernel.shape[-1]} filters "
                              f"· {len(off)} off (red) · click to switch", view.labels,
                              keep_view=same)
        self.grid.show_image(rgb, keep_view=True)

    # -- ranking ----------------------------------------------------------------------
    def rank(self) -> None:
        if self.sample is None or self.layer not in self.kernels:
            return
        x, y = self.sample
        layer, cuts = self.layer, self.cuts()
        self.progress.setValue(0)
        self.progress.setVisible(True)

        def progress(fraction: float) -> None:        # worker thread
            if self._cancel:
                raise Cancelled()
            self._progress.emit(int(100 * fraction))

        def work(bench):
            bench.set_cuts(cuts)
            return surgery.rank_filters(bench.model, layer, x, y, progress=progress)

        self.status.setText(f"switching each of {layer}'s filters off in turn…")
        self._submit("rank", work, lambda ranking: self._ranked(ranking, layer))

    def _ranked(self, ranking, layer: str) -> None:
        self.progress.setVisible(False)
        self._enable(True)
        if layer != self.layer:
            return
        self.ranking = list(ranking)
        self.chart.draw(self.ranking)
        f, accuracy, drop = ranking[0]
        change = f"{100 * drop:.1f} points lost" if drop > 0 else "none lost"
        self.status.setText(f"Without filter {f} of {layer} accuracy falls most: {accuracy:.1%} "
                            f"({change}) on {len(self.sample[1])} test images; blue bars: "
                            "filters it does better without")
        self.ranked.emit()

    # -- saving -----------------------------------------------------------------------
    def save_as(self, name: str | None = None) -> None:
        cuts = self.cuts()
        if not cuts or self.result is None:
            self.status.setText("⚠ switch some filters off first: an uncut copy is this run")
            return
        if name is None:
            name, ok = QInputDialog.getText(self, "Save as new run", "Name of the new run:",
                                            text=f"{Path(self.run_dir).name}-cut")
            if not ok:
                return
        run_dir, test = self.run_dir, {"accuracy": self.result["accuracy"],
                                       "images": len(self.sample[1])}

        def work(bench):
            bench.set_cuts(cuts)
            return str(surgery.save_as_run(bench.model, run_dir, name, test=test))

        self._submit("save", work, self._saved)

    def _saved(self, path: str) -> None:
        self._enable(True)
        self.status.setText(f"Saved the cut model as a new run: {path}")
        self.saved.emit(path)

    # -- shared -----------------------------------------------------------------------
    def _enable(self, on: bool) -> None:
        ready = on and self._jobs == 0 and self.sample is not None
        for widget in (self.rank_button, self.save_button, self.reset_button):
            widget.setEnabled(ready)

    def _failed(self, error) -> None:
        self.progress.setVisible(False)
        self._enable(True)
        if isinstance(error, Cancelled):
            return
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"⚠ {text}")
