"""The CycleGAN tab: both translations and their round trips, epoch by epoch (chapter 8).

Left, domain A's probes: a → G(a) → F(G(a)); right, domain B's: b → F(b) → G(F(b)). The
round trip should give the image back (the cycle loss asks for it); when a run of the same
dataset trained without the cycle loss sits beside this one, its cycle error is shown too:
without it the translations still look like the other domain but their content drifts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from cnnstudio.core.families.generative import cyclegan_probes as cp
from cnnstudio.core.probes.grid import tile
from cnnstudio.core.training.run_siblings import read_config, sibling_runs
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui.families.generative.translation_panel import (
    as_rgb,
    finished_figures,
)
from cnnstudio.gui.widgets.epoch_replay import EpochReplay, ReplayHooks
from cnnstudio.gui.widgets.mosaic import MosaicView


def rows_mosaic(*columns: np.ndarray):
    """Equal-length uint8 batches → one mosaic whose rows are their i-th images."""
    stacked = np.stack([as_rgb(c) for c in columns], axis=1)
    n, cols = stacked.shape[:2]
    return tile(stacked.reshape(n * cols, *stacked.shape[2:]), cols=cols, gap=2)


def domain_names(run_dir: Path) -> tuple[str, str]:
    """The run's two domains, as its dataset names them (class names A, B)."""
    info = RunDir(run_dir).read_json("dataset.json", {}) or {}
    names = [str(c) for c in info.get("class_names") or []]
    return (names[0], names[1]) if len(names) == 2 else ("A", "B")


def without_cycle_run(run_dir: Path) -> tuple[RunDir, float] | None:
    """A sibling cyclegan run of the same dataset with the cycle loss off (cycle_weight 0),
    and its cycle error on the test images, when this run has the cycle loss on."""
    config = read_config(run_dir)
    if config is None or not float(config.model.options.get("cycle_weight", 10.0)):
        return None
    for other, theirs in sibling_runs(run_dir, config=config):
        if not float(theirs.model.options.get("cycle_weight", 10.0)):
            figures = finished_figures(other)
            if "cycle_l1_test" in figures:
                return other, float(figures["cycle_l1_test"])
    return None


class CyclePanel(ReplayHooks, QWidget):
    PROBE, FRAME = "cycle", cp.CycleFrame
    updated = Signal()

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.names = ("A", "B")
        self.frame: cp.CycleFrame | None = None
        self.replay = EpochReplay(self.show_frame, "no translations yet")
        self.a_view = MosaicView("A → B → A", min_side=200)
        self.b_view = MosaicView("B → A → B", min_side=200)
        self.a_view.setToolTip("a | G(a): a as domain B | F(G(a)): translated back")
        self.b_view.setToolTip("b | F(b): b as domain A | G(F(b)): translated back")
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.a_view)
        split.addWidget(self.b_view)
        self.figures = QLabel("")
        self.figures.setWordWrap(True)
        self.status = QLabel("Train a CycleGAN or open a CycleGAN run to watch both "
                             "translations and their round trips.")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(self.replay.bar())
        layout.addWidget(split, 1)
        layout.addWidget(self.figures)
        layout.addWidget(self.status)

    # -- a run ---------------------------------------------------------------------------
    def set_run(self, run_dir) -> None:
        self.run_dir = Path(run_dir)
        self.names = domain_names(self.run_dir)
        self.frame = None
        self.replay.set_store(cp.CycleStore(self.run_dir))
        if not self.replay.epochs:
            for view in (self.a_view, self.b_view):
                view.show_image(np.zeros((1, 1, 3), np.uint8), None,
                                "Waiting for the first epoch's translations.")
        self.show_figures()

    def show_frame(self, frame: cp.CycleFrame) -> None:
        self.frame = frame
        a, b = self.names
        self.a_view.show_mosaic(rows_mosaic(frame.a, frame.g_a, frame.f_g_a), "CET-L1",
                                f"{a} → {b} → {a}", f"epoch {frame.epoch}: a | G(a) | F(G(a))",
                                keep_view=True)
        self.b_view.show_mosaic(rows_mosaic(frame.b, frame.f_b, frame.g_f_b), "CET-L1",
                                f"{b} → {a} → {b}", f"epoch {frame.epoch}: b | F(b) | G(F(b))",
                                keep_view=True)
        self.status.setText(f"Round-trip error of these probes: {frame.cycle_l1:.3f} "
                            "(mean |x − back(x)|, 0..1). Drag the slider to replay the epochs.")
        self.updated.emit()

    def show_figures(self) -> None:
        if self.run_dir is None:
            return
        ev = finished_figures(RunDir(self.run_dir))
        parts = []
        if "cycle_l1_test" in ev:
            parts.append(f"cycle error on the test images {ev['cycle_l1_test']:.3f}")
        other = without_cycle_run(self.run_dir)
        if other is not None:
            parts.append(f"without the cycle loss ({other[0].path.name}): {other[1]:.3f} — "
                         "its translations keep the style but drift from the content")
        self.figures.setText(" · ".join(parts))
        self.figures.setVisible(bool(parts))
