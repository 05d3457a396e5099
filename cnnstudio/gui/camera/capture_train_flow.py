"""What the Camera tab's Train does (a mixin of CameraPanel): check the capture, make its
RunConfig (capture_training), launch it through the window (train_launcher), and hand the
capture folder, the classes and the running source to the Camera tab of the new subject,
which then predicts live with the run as it trains and once it has finished."""

from __future__ import annotations

from cnnstudio.core.errors import StudioError
from cnnstudio.gui.camera import capture_training

CAMERA_PANEL = "camera"


class CaptureTraining:
    def train_capture(self, overrides: dict | None = None) -> None:
        """Train on the capture folder: the config goes to the window's pickers, training
        starts through window.start_training(); this tab then predicts with the new run."""
        capture = self.capture
        try:
            capture_training.check_ready(capture.folder, capture.class_names())
        except StudioError as exc:
            self.say(f"Not trained yet: {exc}")
            return
        if self.launcher is None:
            self.say("Not trained: this tab is not in a studio window")
            return
        config, line = capture_training.capture_config(capture.folder)
        for key, value in (overrides or self.train_overrides).items():
            setattr(config.training, key, value)
        capture.model_line.setText(line)
        self.say(f"Training on {capture.folder}: {line}")
        self.pending_source = self.chooser.spec() if self.session is not None else None
        self.launcher.launch(config)

    def _training_started(self, config) -> None:
        """Setting the config may have renewed the tabs (a new subject): the tab in front
        now is a fresh Camera panel; it takes over the capture and the source."""
        tabs = getattr(self.window, "tabs", None)
        fresh = tabs.panel(CAMERA_PANEL) if tabs is not None else self
        if fresh is not self:
            fresh.adopt(self)
        elif self.pending_source is not None and self.session is None:
            self.start(self.pending_source)
        if tabs is not None and fresh in tabs.panels().values():
            tabs.show_panel(fresh)

    def adopt(self, old) -> None:
        """Take over a retired Camera panel's capture folder, classes and running source."""
        self.capture.set_folder(old.capture.folder, old.capture.class_names())
        self.capture.model_line.setText(old.capture.model_line.text())
        self.train_overrides = dict(old.train_overrides)
        self.gradcam_box.setChecked(old.gradcam_box.isChecked())
        self.say(old.status.text())
        if old.pending_source is not None:
            self.start(old.pending_source)
