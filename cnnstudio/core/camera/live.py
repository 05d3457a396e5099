"""Live prediction of one frame at a time with a finished classification run.

The frame is prepared exactly as ``cnnstudio predict`` and the prediction dock prepare an
image (core/predict.py: resized, channels converted, a photo brought to the training images'
form by photo_prep), then goes through the model's forward pass traced once (``model.predict``
sets up a whole loop per call: too slow for every frame). A camera frame larger than needed
is first reduced to a working size (``working_frame``): photo_prep's lighting step costs
about 50 ms on a 640×480 frame and 9 ms on 320×240, and a 28-pixel model input loses
nothing by it. With ``gradcam`` on, one Grad-CAM
pass (core/probes/gradcam.py) gives the heat map and the class probabilities together.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.imaging import fit_to_shape
from cnnstudio.core.predict import Predictor, rank

# A frame's shorter side is reduced to this (or to twice the model's input side, if more).
LIVE_SIDE = 240


@dataclass
class LivePrediction:
    top: list[tuple[str, float]]          # (class name, probability), best first
    model_input: np.ndarray               # uint8 (H, W, C): the frame as the model sees it
    heatmap: np.ndarray | None            # (H, W) in 0..1 at the model's input size, or None
    seconds: float                        # preparation + model (+ Grad-CAM)
    steps: list[str] = field(default_factory=list)   # photo preparation done, if any


class LivePredictor:
    """``LivePredictor(run_dir)`` or ``LivePredictor((model, preprocess, class_names))``;
    ``preprocess(frame)`` gives the model's input (uint8 or 0..255 floats), None: resize and
    convert channels only. ``gradcam`` may be switched at any time."""

    def __init__(self, run, gradcam: bool = False, k: int = 5):
        if isinstance(run, (str, Path)):
            check_classifier(run)
            self.predictor = Predictor.from_run(run)
            self.run_dir: Path | None = Path(run)
            self._prepare = self.predictor.prepare_explained
        else:
            model, preprocess, names = _unpack(run)
            self.predictor = Predictor.for_model(model, {"class_names": list(names or []),
                                                         "input_shape": _input_shape(model)})
            self.run_dir = None
            shape = self.predictor.input_shape
            self._prepare = (lambda frame: (fit_to_shape(frame, shape), [])) \
                if preprocess is None else (lambda frame: (preprocess(frame), []))
        self.model = self.predictor.model
        self.class_names = self.predictor.class_names
        self.input_shape = self.predictor.input_shape
        self.gradcam = bool(gradcam)
        self.gradcam_error: str | None = None     # why Grad-CAM is off for this model, if so
        self.k = max(1, min(int(k), len(self.class_names)))
        self._forward = _forward_fn(self.model, self.input_shape)
        self.warm_up()

    def warm_up(self) -> None:
        """Trace the forward pass (and Grad-CAM when on) before the first real frame."""
        blank = np.zeros(self.input_shape, np.uint8)
        self._forward(blank[None].astype(np.float32))
        if self.gradcam:
            self._heat(blank)

    def predict(self, frame: np.ndarray) -> LivePrediction:
        start = time.perf_counter()
        prepared, steps = self._prepare(working_frame(frame, self.input_shape))
        model_input = _as_uint8(prepared, self.input_shape)
        heat = self._heat(model_input) if self.gradcam else None
        if heat is not None:
            heatmap, probs = heat
        else:
            heatmap = None
            probs = self._forward(model_input[None].astype(np.float32))[0]
        top = rank(np.asarray(probs, np.float64), self.class_names, self.k)
        return LivePrediction(top, model_input, heatmap, time.perf_counter() - start, steps)

    def _heat(self, model_input: np.ndarray):
        """(heat map, probabilities), or None when Grad-CAM cannot run on this model."""
        if self.gradcam_error is not None:
            return None
        from cnnstudio.core.probes.gradcam import grad_cam

        try:
            result = grad_cam(self.model, model_input)
        except (ValueError, AttributeError, StudioError) as exc:   # no conv layer, …
            self.gradcam_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return None
        return result.heatmap, result.probabilities


def working_frame(frame: np.ndarray, input_shape) -> np.ndarray:
    """``frame`` reduced (area-averaged) so its shorter side is ``LIVE_SIDE`` or twice the
    model's input side, whichever is larger; a frame already that small is kept as it is."""
    short = max(LIVE_SIDE, 2 * max(int(input_shape[0]), int(input_shape[1])))
    h, w = frame.shape[:2]
    if min(h, w) <= short:
        return frame
    scale = short / min(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(np.ascontiguousarray(frame), size, interpolation=cv2.INTER_AREA)


def check_classifier(run_dir: str | Path) -> None:
    """One clear line when ``run_dir`` is not a finished classification run."""
    from cnnstudio.core.families.profile import task_profile
    from cnnstudio.core.registry import ARCHITECTURES
    from cnnstudio.core.training.rundir import RunDir

    folder = RunDir.open(run_dir)
    model_id = folder.config().model.id
    arch = ARCHITECTURES.find(model_id)
    task = arch.task if arch is not None else "classification"   # an imported model
    if task_profile(task).prediction != "classify":
        raise StudioError(f"run {folder.path.name} is a {model_id} ({task}) run: live "
                          "prediction takes classification runs")


def _unpack(run):
    try:
        model, preprocess, names = run
    except (TypeError, ValueError):
        raise StudioError("LivePredictor takes a run folder or (model, preprocess, "
                          f"class_names), got {type(run).__name__}") from None
    return model, preprocess, names


def _input_shape(model) -> list[int] | None:
    """The model's input (H, W, C); a subclassed model (the transfer classifier) has none of
    its own, its first functional part has."""
    for part in (model, *getattr(model, "layers", [])[:1]):
        try:
            return [int(d) for d in part.inputs[0].shape[1:]]
        except (AttributeError, IndexError, TypeError, ValueError):
            continue
    return None


def _as_uint8(image: np.ndarray, shape) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape != tuple(shape):
        raise StudioError(f"the preprocessing gave {arr.shape}, the model takes {tuple(shape)}")
    return arr if arr.dtype == np.uint8 else np.clip(np.rint(arr), 0, 255).astype(np.uint8)


def _forward_fn(model, shape):
    """The fastest per-frame forward pass the backend offers: a traced graph on TensorFlow,
    the model called directly elsewhere."""
    from cnnstudio.core.keras_setup import backend_name, keras

    if backend_name() == "tensorflow":
        from cnnstudio.core.camera.live_tf import compiled_forward

        return compiled_forward(model, tuple(shape))
    ops = keras().ops

    def call(batch: np.ndarray) -> np.ndarray:
        out = model(batch, training=False)
        return ops.convert_to_numpy(out[0] if isinstance(out, (list, tuple)) else out)

    return call
