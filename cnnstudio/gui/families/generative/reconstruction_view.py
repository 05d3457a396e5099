"""The prediction dock for an autoencoder run: a dropped image and what the model makes of it.

Plain autoencoder: the image as the model sees it → its reconstruction. Denoising
autoencoder: also the noisy version it is shown (noise factor of the run) and the
denoised result. PSNR against the input says how close each comes.

The model is never touched here: during training the request is served between
batches (``window.bridge.submit``); otherwise the run's model is loaded and used on the
window's background worker (``window.background.submit``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.generative import autoencoder_probes as probes
from cnnstudio.gui.widgets.images import to_pixmap
from cnnstudio.gui.widgets.prediction_view import PredictionView

VIEW = 120
WELLS = (("input", "As the model sees it"), ("noisy", "Noisy input"),
         ("reconstruction", "Reconstruction"), ("denoised", "Denoised"))


class ReconstructionView(PredictionView):
    HINT = "Drop an image file here to see it reconstructed."
    shown = Signal()            # a reconstruction reached the screen (tests)

    def __init__(self, window=None, parent=None):
        super().__init__(window, parent)
        self.result: dict[str, np.ndarray] | None = None
        self._models: dict[tuple, object] = {}
        self.hint.setText("Drop an image: the autoencoder squeezes it into its code and "
                          "rebuilds it.")
        grid = QGridLayout()
        self.wells: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}
        for col, (key, title) in enumerate(WELLS):
            well = QLabel()
            well.setFixedSize(VIEW, VIEW)
            well.setAlignment(Qt.AlignCenter)
            well.setObjectName("imageWell")
            caption = QLabel(title, wordWrap=True)
            caption.setAlignment(Qt.AlignCenter)
            caption.setFixedWidth(VIEW)
            grid.addWidget(well, 0, col)
            grid.addWidget(caption, 1, col)
            self.wells[key], self.captions[key] = well, caption
        self.body.addLayout(grid)
        self._show_wells(denoising=False)

    def predict_image(self, image: np.ndarray, name: str) -> None:
        image = self.checked(image, name)
        if image is None:
            return
        self.hint.setText(f"Reconstructing {name}…")
        bridge = getattr(self.window, "bridge", None)
        if bridge is not None and bridge.running and bridge.run_dir is not None:
            stats = image_stats(bridge.run_dir)
            if bridge.submit(lambda model: probes.reconstruct(model, image, stats=stats),
                             lambda future: self._live_answer(future, name)):
                self.source.setText(f"Model: the run training now ({bridge.run_dir.name}), "
                                    "answered between batches")
                return
        if self.run_dir is None:
            self.show_error("No model yet: train one, or open a run in the Runs panel.")
            return
        run_dir = self.run_dir
        self.window.background.submit(lambda: self._from_run(run_dir, image),
                                      lambda out: self.show_result(out, name), self.show_error,
                                      key="reconstruct")

    # -- answers ---------------------------------------------------------------------
    def _from_run(self, run_dir: Path, image):       # background thread
        from cnnstudio.core.predict import load_model_file
        from cnnstudio.core.training.rundir import RunDir

        path = RunDir.open(run_dir).model_path()
        if path is None:
            raise StudioError(f"run {run_dir.name} has no trained model yet")
        key = (str(path), path.stat().st_mtime_ns)
        model = self._models.get(key)
        if model is None:
            model = load_model_file(path)
            if not hasattr(model, "encoder"):
                raise StudioError(f"run {run_dir.name} is not an autoencoder")
            self._models = {key: model}       # one at a time: models can be large
        return probes.reconstruct(model, image, stats=image_stats(run_dir))

    def _live_answer(self, future, name: str) -> None:
        try:
            out = future.result()
        except Exception as exc:      # the run ended first, or the image did not fit
            self.show_error(f"Reconstruction failed: {exc}")
            return
        self.show_result(out, name)

    def show_result(self, out: dict, name: str) -> None:
        self.result = out
        denoising = "denoised" in out
        self._show_wells(denoising)
        clean = probes.to_unit(out["input"])
        h, w, c = out["input"].shape
        for key, _ in WELLS:
            if key in out:
                self.wells[key].setPixmap(to_pixmap(out[key], VIEW - 4))
        steps = out.get("steps") or []
        self.captions["input"].setText(f"As the model sees it: {w}×{h}×{c}" + (
            ", " + ", ".join(s.split(":")[0] for s in steps) if steps else ""))
        self.captions["input"].setToolTip("Done to the image: " + "; ".join(steps) if steps
                                          else "Only resized to the model's input.")
        for key in ("noisy", "reconstruction", "denoised"):
            if key in out:
                title = dict(WELLS)[key]
                db = probes.psnr(clean, probes.to_unit(out[key]))
                self.captions[key].setText(f"{title}: PSNR {db:.1f} dB")
        figure = probes.compression(out["input"].shape, out["code"].shape)
        self.hint.setText(f"{name}: squeezed into {figure.code_numbers} numbers "
                          f"({figure.ratio:.0%} of {figure.input_numbers}) and rebuilt"
                          + (", and cleaned of noise." if denoising else "."))
        self.shown.emit()

    def _show_wells(self, denoising: bool) -> None:
        for key in ("noisy", "denoised"):
            self.wells[key].setVisible(denoising)
            self.captions[key].setVisible(denoising)


def image_stats(run_dir) -> dict | None:
    """How the run's training images look (dataset.json), for bringing photos to that form."""
    from cnnstudio.core.training.rundir import RunDir

    try:
        return (RunDir(run_dir).read_json("dataset.json", {}) or {}).get("image_stats")
    except Exception:           # a folder being written: no adaptation this time
        return None
