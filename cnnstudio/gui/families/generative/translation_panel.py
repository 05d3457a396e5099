"""The pix2pix tab: the same probe pairs translated after every epoch (book chapter 8).

One row per probe pair: input edges | the generator's output | the real target | how real
the discriminator finds each patch of the output (green real, red fake, over the output).
When a run of the same dataset trained with the other loss sits beside this one (an
L1-only baseline beside a pix2pix run, or the other way round) its output joins each row,
so the blur that the adversarial loss removes is seen side by side, with both runs'
sharpness (variance of the Laplacian) against the targets'.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from cnnstudio.core.families.generative import pix2pix_probes as pp
from cnnstudio.core.probes.grid import tile
from cnnstudio.core.training.run_siblings import read_config, sibling_runs
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui.widgets.epoch_replay import EpochReplay, ReplayHooks
from cnnstudio.gui.widgets.mosaic import MosaicView


def as_rgb(images: np.ndarray) -> np.ndarray:
    """uint8 (N, h, w, 1|3) → float RGB 0..1 (a grey channel repeated, no colour map)."""
    x = np.asarray(images, np.float32) / 255.0
    return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x[..., :3]


def patch_overlay(outputs: np.ndarray, patches: np.ndarray) -> np.ndarray:
    """The discriminator's per-patch realness (N, h, w in 0..1) over the outputs: float RGB,
    red where a patch looks fake, green where it looks real, half blended."""
    rgb = as_rgb(outputs)
    n, height, width = rgb.shape[:3]
    out = np.empty_like(rgb)
    for i in range(n):
        real = cv2.resize(np.asarray(patches[i], np.float32), (width, height),
                          interpolation=cv2.INTER_NEAREST)
        colour = np.stack([1.0 - real, real, np.zeros_like(real)], axis=-1)
        out[i] = 0.5 * rgb[i] + 0.5 * colour
    return out


def finished_figures(run: RunDir) -> dict:
    """What the task measured on the test images when the run finished (summary.json)."""
    return (run.read_json("summary.json", {}) or {}).get("test") or {}


def other_loss_run(run_dir: Path) -> tuple[RunDir, bool] | None:
    """The newest sibling pix2pix run of the same dataset trained with the other loss:
    (its folder, whether it is the L1-only one)."""
    config = read_config(run_dir)
    if config is None:
        return None
    l1_only = not float(config.model.options.get("gan_weight", 1.0))
    for other, theirs in sibling_runs(run_dir, config=config):
        if (not float(theirs.model.options.get("gan_weight", 1.0))) != l1_only:
            return other, not l1_only
    return None


class TranslationPanel(ReplayHooks, QWidget):
    PROBE, FRAME = "translation", pp.TranslationFrame
    updated = Signal()              # an epoch's rows were drawn (tests, screenshots)

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.other: tuple[RunDir, bool] | None = None
        self.frame: pp.TranslationFrame | None = None
        self.columns: list[str] = []
        self.replay = EpochReplay(self.show_frame, "no translations yet")
        self.rows = MosaicView("Probe pairs", min_side=260)
        self.rows.setToolTip("The same test pairs every epoch: input | output | target | the "
                             "discriminator's verdict on each patch of the output.")
        self.figures = QLabel("")
        self.figures.setWordWrap(True)
        self.status = QLabel("Train a pix2pix model or open a pix2pix run to watch it learn "
                             "the mapping.")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(self.replay.bar())
        layout.addWidget(self.rows, 1)
        layout.addWidget(self.figures)
        layout.addWidget(self.status)

    # -- a run ---------------------------------------------------------------------------
    def set_run(self, run_dir) -> None:
        self.run_dir = Path(run_dir)
        self.other = other_loss_run(self.run_dir)
        self.frame = None
        self.replay.set_store(pp.TranslationStore(self.run_dir))
        if not self.replay.epochs:
            self.rows.show_image(np.zeros((1, 1, 3), np.uint8), "Probe pairs",
                                 "Waiting for the first epoch's translations.")
        self.show_figures()

    def _other_outputs(self, frame) -> np.ndarray | None:
        """The sibling run's outputs for the same inputs (its last stored epoch ≤ this one)."""
        if self.other is None:
            return None
        store = pp.TranslationStore(self.other[0].path)
        epochs = [e for e in store.epochs() if e <= frame.epoch] or store.epochs()[:1]
        if not epochs:
            return None
        theirs = store.read(epochs[-1])
        if theirs.inputs.shape != frame.inputs.shape or not np.array_equal(theirs.inputs,
                                                                           frame.inputs):
            return None
        return theirs.outputs

    def show_frame(self, frame: pp.TranslationFrame) -> None:
        self.frame = frame
        other = self._other_outputs(frame)
        columns = [("input", as_rgb(frame.inputs))]
        if other is not None:
            columns.append(("L1 only" if self.other[1] else "pix2pix", as_rgb(other)))
        mine = "L1 only" if self.other is not None and not self.other[1] else "output"
        columns += [(mine, as_rgb(frame.outputs)), ("target", as_rgb(frame.targets)),
                    ("D's patches: green real, red fake", patch_overlay(frame.outputs, frame.patches))]
        self.columns = [name for name, _ in columns]
        stacked = np.stack([images for _, images in columns], axis=1)   # (N, cols, h, w, 3)
        n, cols = stacked.shape[:2]
        mosaic = tile(stacked.reshape(n * cols, *stacked.shape[2:]), cols=cols, gap=2)
        self.rows.show_mosaic(mosaic, "CET-L1", f"Epoch {frame.epoch}: "
                              + " | ".join(self.columns),
                              f"mean L1 to the targets {frame.l1:.3f} (0..1 scale)",
                              keep_view=True)
        if other is None and self.other is not None:
            self.status.setText(f"Run {self.other[0].path.name} (the other loss) used other "
                                "probe pairs: open it to compare.")
        else:
            self.status.setText("Drag the slider to replay the epochs; draw in the prediction "
                                "dock to translate your own sketch.")
        self.updated.emit()

    def show_figures(self) -> None:
        """Sharpness and L1 on the test pairs (summary.json) of this run and its sibling."""
        parts, target = [], None
        for label, run in self._runs():
            ev = finished_figures(run)
            if "sharpness_test" in ev:
                parts.append(f"<b>{label}</b> ({run.path.name}): L1 {ev.get('l1_test', 0):.3f}, "
                             f"sharpness {ev['sharpness_test']:.4f}")
                target = ev.get("target_sharpness")
        if parts and target is not None:
            parts.append(f"real targets: sharpness {target:.4f}")
        self.figures.setText(" · ".join(parts))
        self.figures.setVisible(bool(parts))

    def _runs(self):
        if self.run_dir is None:
            return []
        mine = RunDir(self.run_dir)
        if self.other is None:
            return [("this run", mine)]
        other, other_l1 = self.other
        return [("L1 only", other if other_l1 else mine), ("pix2pix", mine if other_l1 else other)]
