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
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.generative import autoencoder_probes as probes
from cnnstudio.core.imaging import normalize_array, read_image
from cnnstudio.gui.families.registry import register_prediction_view
from cnnstudio.gui.widgets.images import to_pixmap

VIEW = 120
WELLS = (("input", "As the model sees it"), ("noisy", "Noisy input"),
         ("reconstruction", "Reconstruction"), ("denoised", "Denoised"))


class ReconstructionView(QWidget):
    shown = Signal()            # a reconstruction reached the screen (tests)

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.result: dict[str, np.ndarray] | None = None
        self._models: dict[tuple, object] = {}
        self.setAcceptDrops(True)
        self.hint = QLabel("Drop an image: the autoencoder squeezes it into its code and "
                           "rebuilds it.", wordWrap=True)
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
        self.source = QLabel("Model: none yet — train one, or open a run.", wordWrap=True)
        self.source.setObjectName("muted")
        self.error = QLabel(wordWrap=True)
        self.error.setObjectName("error")
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addLayout(grid)
        layout.addWidget(self.source)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self._show_wells(denoising=False)

    # -- the registry's hooks -------------------------------------------------------
    def set_run_dir(self, path) -> None:
        self.run_dir = Path(path) if path else None
        self.source.setText(f"Model: run {self.run_dir.name if self.run_dir else 'none'}")

    def run_started(self, event) -> None:
        self.set_run_dir(event.run_dir)

    def predict_image(self, image: np.ndarray, name: str) -> None:
        try:
            image = normalize_array(image, name=name)
        except StudioError as exc:
            self.show_error(str(exc))
            return
        self.error.hide()
        self.hint.setText(f"Reconstructing {name}…")
        bridge = getattr(self.window, "bridge", None)
        if bridge is not None and bridge.running and bridge.run_dir is not None:
            if bridge.submit(lambda model: probes.reconstruct(model, image),
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

    def predict_file(self, path) -> None:
        try:
            image = read_image(path)
        except StudioError as exc:
            self.show_error(str(exc))
            return
        self.predict_image(image, Path(path).name)

    # -- drops of its own, when the dock hands the view the whole area -----------------
    def dragEnterEvent(self, event):    # noqa: N802 (Qt's name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):          # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.predict_file(paths[0])
        event.acceptProposedAction()

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
        return probes.reconstruct(model, image)

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
        self.captions["input"].setText(f"As the model sees it: {w}×{h}×{c}")
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

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.hint.setText("Drop an image file here to see it reconstructed.")


register_prediction_view("reconstruct", ReconstructionView)
