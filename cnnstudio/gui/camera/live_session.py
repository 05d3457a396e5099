"""One live camera session: a source read by C1's ``FrameGrabber`` (newest frame only) and a
prediction thread that always takes the newest frame, never a queue. No Qt here: the camera
tab reads ``frame()`` and ``take_result()`` at its own paint timer.

    session = LiveSession(source); session.start()
    session.set_run(run_dir)              # loads a LivePredictor on the prediction thread
    session.frame()                       # newest (frame, id, t_captured) for the live view
    session.take_result()                 # newest Answer not yet shown, or None
    session.stop()                        # joins both threads, closes the source

``dropped`` counts the frames the model never saw (the grabber had a newer one by the time
the model was free): a slow model drops frames, so its answers stay about the present.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.camera import FrameGrabber

WAIT_S = 0.2           # the prediction thread checks for stop this often while no frame comes


@dataclass
class Answer:
    prediction: object          # core.camera.LivePrediction
    frame: np.ndarray           # the frame it answers (the live view shows newer ones)
    frame_id: int
    t_captured: float           # time.perf_counter() when the frame arrived
    run_dir: Path


def _load_predictor(run_dir: Path):
    from cnnstudio.core.camera import LivePredictor

    return LivePredictor(run_dir)


class LiveSession:
    def __init__(self, source, load_predictor=_load_predictor):
        self.source = source
        self.grabber = FrameGrabber(source)
        self._load = load_predictor          # run_dir -> a LivePredictor (.predict, .gradcam)
        self.run_dir: Path | None = None
        self.gradcam = False
        self.predictor = None
        self.predictor_error: str | None = None   # why the run cannot predict (one line)
        self.loading = False
        self.predicted = 0
        self.dropped = 0
        # (run folder, generation): a new generation of the same run reloads its newest model
        self._wanted: tuple[Path | None, int] = (None, 0)
        self._loaded: tuple[Path | None, int] | None = None
        self._result: Answer | None = None
        self._times: collections.deque = collections.deque(maxlen=30)   # predictions' ends
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the GUI thread -------------------------------------------------------------------
    def start(self) -> LiveSession:
        self.grabber.start()
        self._thread = threading.Thread(target=self._run, name="camera-predict", daemon=True)
        self._thread.start()
        return self

    def set_run(self, run_dir) -> None:
        """Predict with this run (None: show frames only); loaded on the prediction thread
        before its next frame. The same run again reloads it (a newer checkpoint)."""
        with self._lock:
            self.run_dir = Path(run_dir) if run_dir else None
            self._wanted = (self.run_dir, self._wanted[1] + 1)
            self.predictor_error = None

    def set_gradcam(self, on: bool) -> None:
        """Grad-CAM from the next frame on (LivePredictor switches without reloading)."""
        self.gradcam = bool(on)

    def frame(self) -> tuple[np.ndarray, int, float] | None:
        return self.grabber.latest()

    def take_result(self) -> Answer | None:
        with self._lock:
            result, self._result = self._result, None
            return result

    @property
    def ended(self) -> bool:
        return self.grabber.ended

    @property
    def error(self) -> str | None:
        return self.grabber.error

    def model_fps(self) -> float:
        """Predictions per second over the last 30."""
        with self._lock:
            times = list(self._times)
        if len(times) < 2 or times[-1] == times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def dropped_share(self) -> float:
        seen = self.predicted + self.dropped
        return self.dropped / seen if seen else 0.0

    def stop(self) -> None:
        """Join the prediction thread, then the grabber (which closes the source)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.grabber.stop()

    # -- the prediction thread ------------------------------------------------------------
    def _ensure_predictor(self) -> bool:
        with self._lock:
            wanted, current = self._wanted, self._loaded
        if wanted == current:
            return self.predictor is not None
        self.predictor, self.loading = None, wanted[0] is not None
        error, predictor = None, None
        if wanted[0] is not None:
            try:
                predictor = self._load(wanted[0])
            except Exception as exc:          # no checkpoint yet, a broken model file…
                error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        with self._lock:
            if self._wanted == wanted:        # not superseded while it loaded
                self.predictor, self._loaded = predictor, wanted
                self.predictor_error = error
            self.loading = False
        return self.predictor is not None

    def _run(self) -> None:
        last_id = -1
        while not self._stop.is_set():
            ready = self._ensure_predictor()
            got = self.grabber.wait(after_id=last_id, timeout=WAIT_S)
            if got is None:
                if self.grabber.ended:
                    return
                continue
            frame, frame_id, t_captured = got
            if not ready:
                last_id = frame_id            # no model: nothing to drop, just keep up
                continue
            if last_id >= 0:
                self.dropped += max(0, frame_id - last_id - 1)
            last_id = frame_id
            with self._lock:                  # set_run may have moved on meanwhile
                predictor, loaded = self.predictor, self._loaded
            if predictor is None or loaded is None:
                continue
            run_dir = loaded[0]
            predictor.gradcam = self.gradcam
            try:
                prediction = predictor.predict(frame)
            except Exception as exc:
                with self._lock:
                    self.predictor_error = str(exc).splitlines()[0] or type(exc).__name__
                    self.predictor, self._loaded = None, self._wanted
                continue
            with self._lock:
                self.predicted += 1
                self._times.append(time.perf_counter())
                if self._loaded is not None and self._loaded[0] == run_dir:
                    self._result = Answer(prediction, frame, frame_id, t_captured, run_dir)
