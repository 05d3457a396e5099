"""The Fool it tab's second curve: the same accuracy-vs-ε measure on a sibling run trained the
other way (with the ``adversarial`` training option when the open run has none, or without
it when it has), drawn on the same plot, so a student sees the curve move.

    compare = SiblingCurve(plot, answers)
    compare.start(run_dir, count, method, steps, eps_values)   # with each "Test-set curve"
    compare.ready → compare.curve, compare.name  (or compare.missing: why there is none)

The sibling's model is an inference copy on its own worker thread: a live run's training
thread is never asked to hold a second model.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal

from cnnstudio.core.probes import adversarial_training as at
from cnnstudio.core.probes.adversarial_curve import accuracy_curve, sample_test_split
from cnnstudio.core.probes.adversarial_pair import counterpart
from cnnstudio.core.training.run_siblings import read_config
from cnnstudio.gui.model_access import Answers, ModelRunner

COLOUR = "#1a73e8"
HINT = ("No sibling run to compare: train the same model on the same data {how} "
        "(Training ▸ Advanced ▸ Adversarial) and its curve joins this one.")


class SiblingCurve(QObject):
    ready = Signal()              # the sibling's curve is drawn, or there is none

    def __init__(self, plot: pg.PlotWidget, answers: Answers, parent=None):
        super().__init__(parent)
        self.answers = answers
        self.line = plot.plot([], [], pen=pg.mkPen(COLOUR, width=2, style=pg.QtCore.Qt.DashLine),
                              symbol="s", symbolSize=6, symbolBrush=COLOUR)
        self.legend = plot.plotItem.legend       # the panel's: the line joins it when drawn
        self._generation = 0                     # bumped by clear(): late answers are dropped
        self.runner: ModelRunner | None = None
        self.sibling = None           # the sibling's RunDir
        self.curve = None
        self.name = ""
        self.folder = ""              # the sibling run's folder name, said in the status
        self.missing = ""             # why no second curve is drawn ("" when one is)

    def clear(self) -> None:
        self.curve, self.missing = None, ""
        self._generation += 1
        self.line.setData([], [])
        if self.legend is not None:
            self.legend.removeItem(self.line)

    def start(self, run_dir, count: int, method: str, steps: int, eps_values=None) -> None:
        """Find the sibling trained the other way and measure its curve on the same sample."""
        self.clear()
        found = counterpart(run_dir)
        if found is None:
            config = read_config(run_dir)
            trained = config is not None and at.is_active(config.training.adversarial)
            self.missing = HINT.format(how="without the adversarial option" if trained
                                       else "with the adversarial option")
            self.ready.emit()
            return
        other, config = found
        if self.runner is None or self.sibling is None or self.sibling.path != other.path:
            self.close()
            self.runner, self.sibling = ModelRunner.from_run(other.path), other
        self.name = f"sibling: {at.label(config)}"
        self.folder = other.path.name
        kwargs = {} if eps_values is None else {"eps_values": eps_values}

        def work(model):
            images, labels, _ = sample_test_split(other.path, count)
            return accuracy_curve(model, images, labels, method=method, steps=steps, **kwargs)

        generation = self._generation
        self.answers.watch("sibling-curve", self.runner.submit(work),
                           lambda curve: self._show(curve, generation),
                           lambda error: self._failed(error, generation))

    def _show(self, curve, generation: int) -> None:
        if generation != self._generation:
            return               # another run was opened, or another curve asked for
        self.curve = curve
        self.line.setData(curve.eps_values, curve.accuracy)
        rename(self.legend, self.line, self.name)
        self.ready.emit()

    def _failed(self, error, generation: int) -> None:
        if generation == self._generation:
            self.missing = f"the sibling run's curve failed: {str(error).splitlines()[0]}"
            self.ready.emit()

    def summary(self) -> str:
        """One line for the status: the sibling's accuracy at each ε, or why there is none."""
        if self.curve is None:
            return self.missing
        return (f"{self.name} ({self.folder}): " + " · ".join(
            f"ε {e:g}: {a:.0%}" for e, a in zip(self.curve.eps_values, self.curve.accuracy,
                                                 strict=True)))

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()
            self.runner, self.sibling = None, None


def rename(legend, item, name: str) -> None:
    """Give a plotted line its legend entry ``name`` (pyqtgraph's entries cannot be renamed)."""
    if legend is not None:
        legend.removeItem(item)
        legend.addItem(item, name)
