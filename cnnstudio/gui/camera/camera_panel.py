"""The Camera tab of classifier runs (issue 28, section 2): a camera, a video file, a screen
region or generated digits, predicted live by the window's run, with what the model sees,
Grad-CAM over it, and Teachable-Machine-style capture and training.

Threads: the source is opened on a worker (a camera may take seconds), C1's FrameGrabber
reads it on its own thread keeping only the newest frame, and LiveSession's prediction
thread always takes the newest frame (a slow model drops frames, never queues them). This
tab paints at its own timer (PAINT_MS) from what those threads left; nothing of theirs is
touched here but through LiveSession.

Which model: the window's run. A finished or opened run predicts with its final model; a
run still training predicts with its newest saved epoch (reloaded when the next checkpoint
is on disk), not through the training thread, so live frames never slow the training.
"""

from __future__ import annotations

import collections
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import StudioError
from cnnstudio.gui.camera.capture_panel import CapturePanel
from cnnstudio.gui.camera.capture_train_flow import CAMERA_PANEL, CaptureTraining
from cnnstudio.gui.camera.frame_view import FrameView
from cnnstudio.gui.camera.live_session import LiveSession
from cnnstudio.gui.camera.source_chooser import SourceChooser, open_source
from cnnstudio.gui.camera.train_launcher import TrainLauncher
from cnnstudio.gui.model_access import Answers
from cnnstudio.gui.widgets.top_bars import TopBars

PANEL_ID = CAMERA_PANEL
PAINT_MS = 33                 # the tab repaints ~30 times a second, whatever the camera does
MODEL_VIEW = 180
STALL_S = 5.0                 # no new frame for this long: the source is gone
SIDE = 250                    # the column of the model's view, its top 5 and the readouts


def _newest_checkpoint(run_dir: Path | None) -> int:
    if run_dir is None:
        return 0
    from cnnstudio.core.training.rundir import RunDir

    try:
        last = RunDir(run_dir).last_checkpoint()
    except Exception:                 # a folder on its way out
        return 0
    return last[0] if last else 0


class CameraPanel(CaptureTraining, QWidget):
    answered = Signal()             # a prediction reached the screen (tests, screenshots)
    stopped = Signal(str)           # the session ended; the one line that says why

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.session: LiveSession | None = None
        self.run_dir: Path | None = None
        self.live_run = False              # run_dir is training in this window now
        self.loaded_epoch = 0              # the checkpoint a live run predicts with
        self.frame_id = -1
        self.last_frame_at = 0.0
        self.latencies: collections.deque = collections.deque(maxlen=60)
        self.captured: collections.deque = collections.deque(maxlen=40)   # (t, captured)
        self.shown_answers = 0
        self.resume_on_show = False
        self._opening = 0                  # ticket of the source being opened (0: none)
        self._tickets = 0
        self.pending_source: tuple | None = None    # to reopen once Train has started
        self.train_overrides: dict = {}             # TrainConfig fields (lessons' fast mode)
        self.load_predictor = None                  # run_dir → LivePredictor (tests: a slow one)
        self._opener: ThreadPoolExecutor | None = None
        self.answers = Answers(self)
        self._timer = QTimer(self)
        self._timer.setInterval(PAINT_MS)
        self._timer.timeout.connect(self._paint)

        self.chooser = SourceChooser()
        self.chooser.chosen.connect(self._source_chosen)
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("primary")
        self.start_button.clicked.connect(lambda: self.start())
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(lambda: self.stop("Stopped."))
        self.gradcam_box = QCheckBox("Grad-CAM")
        self.gradcam_box.setToolTip("Colour where the network looks for the class it picks "
                                    "(over the frame, and over what the model sees)")
        self.gradcam_box.toggled.connect(self.set_gradcam)
        self.readout = QLabel("", wordWrap=True)
        self.readout.setObjectName("muted")
        self.readout.setToolTip("camera: frames per second from the source · model: "
                                "predictions per second · latency: frame in → answer on "
                                "screen (median) · dropped: frames the model never saw, "
                                "because a newer one was waiting")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Source:"))
        bar.addWidget(self.chooser)
        bar.addWidget(self.start_button)
        bar.addWidget(self.stop_button)
        bar.addWidget(self.gradcam_box)
        bar.addStretch(1)

        self.live_view = FrameView("Choose a source and press Start: a camera, a video "
                                   "file, a part of the screen, or generated digits.")
        self.live_view.setMinimumSize(320, 260)
        self.model_view = FrameView("As the model sees it", smooth=False)
        self.model_view.setFixedSize(MODEL_VIEW, MODEL_VIEW)
        self.model_view.setToolTip("The frame after the run's own preparation: resized to "
                                   "its input, channels converted (and a photo of a digit "
                                   "brought to the training images' form)")
        model_caption = QLabel("As the model sees it")
        model_caption.setAlignment(Qt.AlignCenter)
        self.bars = TopBars()
        self.model_line = QLabel("Model: none yet — train one, or open a run.", wordWrap=True)
        self.model_line.setObjectName("muted")
        self.capture = CapturePanel(getattr(window, "settings", None), self.latest_frame,
                                    self._start_for_recording)
        self.capture.message.connect(self.say)
        self.capture.train_requested.connect(self.train_capture)
        self.launcher = TrainLauncher(window, self) if window is not None else None
        if self.launcher is not None:
            self.launcher.failed.connect(lambda text: self.say("Not trained: " + text))
            self.launcher.started.connect(self._training_started)
        self.status = QLabel("", wordWrap=True)

        # The live view beside what the model sees; the capture rows under both, full width,
        # so the tab still fits the centre of a 1366×768 window.
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.model_view, 0, Qt.AlignHCenter)
        right.addWidget(model_caption)
        right.addWidget(self.bars)
        right.addWidget(self.model_line)
        right.addWidget(self.readout)
        right.addStretch(1)
        side = QWidget()
        side.setLayout(right)
        side.setFixedWidth(SIDE)
        body = QHBoxLayout()
        body.addWidget(self.live_view, 1)
        body.addWidget(side)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(body, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.capture)
        self._follow_subject()

    # -- the registry's hooks -------------------------------------------------------------
    def run_started(self, event) -> None:
        self.set_run(event.run_dir, live=True)

    def epoch_done(self, event) -> None:
        self._newer_checkpoint()

    def probe_ready(self, event) -> None:
        self._newer_checkpoint()            # probes follow the checkpoint on disk

    def run_finished(self, event) -> None:
        self.set_run(event.run_dir)

    def open_run(self, path) -> None:
        self.set_run(path)

    def shown(self) -> None:
        background = getattr(self.window, "background", None)
        if background is not None and not self.chooser.cameras_listed:
            from cnnstudio.core.camera import list_cameras

            self.chooser.cameras_listed = True
            background.submit(list_cameras, self.chooser.set_cameras,
                              lambda error: self.say(f"no cameras listed: {error}"),
                              key="cameras")

    def close_panel(self) -> None:
        self.resume_on_show = False
        if self.launcher is not None:
            self.launcher.cancel()
        self.stop("")
        self.capture.close_panel()
        if self._opener is not None:
            self._opener.shutdown(wait=True)
            self._opener = None
            self.answers.flush()     # a source opened meanwhile is closed, not kept

    def busy(self) -> bool:
        return bool(self._opening)

    # -- the run it predicts with ---------------------------------------------------------
    def _follow_subject(self) -> None:
        subject = getattr(self.window, "subject", None)
        if subject is not None and subject.kind in ("live", "run") and subject.run_dir:
            self.set_run(subject.run_dir, live=subject.kind == "live")

    def set_run(self, run_dir, live: bool = False) -> None:
        self.run_dir = Path(run_dir) if run_dir else None
        self.live_run = live
        self.loaded_epoch = _newest_checkpoint(self.run_dir) if live else 0
        if self.session is not None:
            self.session.set_run(self.run_dir)
        self._say_model()

    def _newer_checkpoint(self) -> None:
        if not self.live_run:
            return
        epoch = _newest_checkpoint(self.run_dir)
        if epoch > self.loaded_epoch:
            self.loaded_epoch = epoch
            if self.session is not None:
                self.session.set_run(self.run_dir)
            self._say_model()

    def _say_model(self, error: str | None = None) -> None:
        if self.run_dir is None:
            text = "Model: none yet — train one, or open a run."
        elif error:
            text = f"Model: run {self.run_dir.name} cannot predict: {error}"
        elif self.live_run:
            text = (f"Model: run {self.run_dir.name}, training — its epoch "
                    f"{self.loaded_epoch} checkpoint" if self.loaded_epoch else
                    f"Model: run {self.run_dir.name}, training — live predictions start "
                    "with its first saved epoch")
        else:
            text = f"Model: run {self.run_dir.name}"
        self.model_line.setText(text)

    # -- starting and stopping ------------------------------------------------------------
    def _source_chosen(self, spec: tuple) -> None:
        if self.session is not None or self._opening:
            self.start(spec)                # switch sources without a second click

    def start(self, spec: tuple | None = None, source=None) -> None:
        """Open the chosen source (or use ``source``, a FrameSource) and go live."""
        self.stop("")
        spec = tuple(spec) if spec is not None else self.chooser.spec()
        if spec != self.chooser.spec() and source is None:
            self.chooser.choose(spec, emit=False)
        self._tickets += 1
        ticket = self._opening = self._tickets
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        if source is not None:
            self._opened(ticket, source)
            return
        if spec[0] == "screen":             # Qt grabs the screen on the GUI thread only
            try:
                self._opened(ticket, open_source(spec))
            except StudioError as exc:
                self._open_failed(ticket, exc)
            return
        self.say(f"Opening {self.chooser.currentText()}…")
        if self._opener is None:
            self._opener = ThreadPoolExecutor(max_workers=1, thread_name_prefix="camera-open")
        # A key per ticket: every opened source comes back, so a stale one is closed.
        self.answers.watch(f"open-{ticket}", self._opener.submit(open_source, spec),
                           lambda src: self._opened(ticket, src),
                           lambda exc: self._open_failed(ticket, exc))

    def _close_opener(self) -> None:
        # Its one job is done (this runs on its answer): the idle worker ends here, so a
        # stopped tab holds no thread.
        if self._opener is not None:
            self._opener.shutdown(wait=True)
            self._opener = None

    def _opened(self, ticket: int, source) -> None:
        if not self._opening or ticket == self._opening:
            self._close_opener()
        if ticket != self._opening:          # stopped, or another source chosen meanwhile
            source.close()
            return
        self._opening = 0
        self.session = LiveSession(source, *([self.load_predictor] if self.load_predictor
                                             else []))
        self.session.set_gradcam(self.gradcam_box.isChecked())
        self.session.set_run(self.run_dir)
        self.session.start()
        self.frame_id = -1
        self.last_frame_at = time.perf_counter()
        self.latencies.clear()
        self.captured.clear()
        self._timer.start()
        self.say(f"Live: {source.name}")

    def _open_failed(self, ticket: int, error) -> None:
        if not self._opening or ticket == self._opening:
            self._close_opener()
        if ticket != self._opening:
            return
        self._opening = 0
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        line = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.say(f"Cannot open the source: {line}")
        self.stopped.emit(line)

    def stop(self, why: str = "Stopped.") -> None:
        """Stop painting, join the threads, close the source; ``why`` goes on the line."""
        self._opening = 0
        self._timer.stop()
        self.capture.stop_recording()
        session, self.session = self.session, None
        if session is not None:
            session.stop()
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        if why:
            self.say(why)
        if session is not None:
            self.stopped.emit(why)

    def _start_for_recording(self) -> None:
        if self.session is None and not self._opening:
            self.start()

    def latest_frame(self):
        return self.session.frame() if self.session is not None else None

    def set_gradcam(self, on: bool) -> None:
        if self.session is not None:
            self.session.set_gradcam(on)
        self.live_view.set_overlay(on)
        self.model_view.set_overlay(on)

    def say(self, text: str) -> None:
        self.status.setText(text)

    # -- painting (GUI timer) -------------------------------------------------------------
    def _paint(self) -> None:
        session = self.session
        if session is None:
            return
        if session.ended:
            error = session.error
            self.stop(f"Stopped: {error}" if error else
                      f"Stopped: {session.source.name} has no more frames (the video ended, "
                      "or the camera was unplugged).")
            return
        now = time.perf_counter()
        got = session.frame()
        if got is not None and got[1] != self.frame_id:
            self.frame_id = got[1]
            self.last_frame_at = now
            self.live_view.set_frame(got[0], self.live_view.heatmap)
        elif now - self.last_frame_at > STALL_S:
            # A camera pulled out may go on answering "no frame now" instead of failing.
            self.stop(f"Stopped: no frame from {session.source.name} for {STALL_S:g} s "
                      "(unplugged, or taken by another program?)")
            return
        self.captured.append((now, session.grabber.captured))
        answer = session.take_result()
        if answer is not None:
            self._show(answer, now)
        elif session.predictor_error:
            self._say_model(session.predictor_error)
        self._show_readout(session)

    def _show(self, answer, now: float) -> None:
        p = answer.prediction
        self.latencies.append(now - answer.t_captured)
        self.model_view.set_frame(p.model_input, p.heatmap)
        # The heat map is of the whole frame squeezed to the input unless the run's photo
        # preparation cropped it: only then may it lie over the live frame.
        self.live_view.heatmap = p.heatmap if not p.steps else None
        self.live_view.set_frame(self.live_view.frame, self.live_view.heatmap)
        self.bars.set_rows(p.top)
        name, prob = p.top[0]
        self.live_view.set_caption(f"{name}  {prob:.0%}")
        self.shown_answers += 1
        if answer.run_dir == self.run_dir:
            self._say_model()
        self.answered.emit()

    def _show_readout(self, session: LiveSession) -> None:
        camera = 0.0
        if len(self.captured) >= 2:
            (t0, c0), (t1, c1) = self.captured[0], self.captured[-1]
            camera = (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0
        latency = f"{np.median(self.latencies) * 1000:.0f} ms" if self.latencies else "—"
        self.readout.setText(f"camera {camera:.1f} fps · model {session.model_fps():.1f} fps · "
                             f"latency {latency} · dropped {session.dropped} "
                             f"({session.dropped_share():.0%})")

    # -- showing and hiding ---------------------------------------------------------------
    def hideEvent(self, event):          # noqa: N802 (Qt's name)
        # Another tab in front (or the window minimised): no camera or model work for a
        # view nobody sees; it comes back when the tab does.
        if self.session is not None or self._opening:
            self.resume_on_show = True
            self.stop("")
        super().hideEvent(event)

    def showEvent(self, event):          # noqa: N802
        super().showEvent(event)
        if self.resume_on_show:
            self.resume_on_show = False
            self.start()
