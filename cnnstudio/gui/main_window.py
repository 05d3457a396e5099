"""The studio window: docks around the live plots, menus, status bar, and the run's life cycle.

Data flow: pickers → RunConfig → RunBridge (training QThread) → signals → panels.
The window owns two threads (the run's and the background worker) and joins
both when it closes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
)

from cnnstudio.core.config import RunConfig
from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.profile import arch_profile
from cnnstudio.core.imaging import is_image_name
from cnnstudio.core.training.rundir import RunDir, default_runs_root
from cnnstudio.gui import menus, window_docks
from cnnstudio.gui.background import Background
from cnnstudio.gui.bridge import RunBridge
from cnnstudio.gui.centre_tabs import CentreTabs
from cnnstudio.gui.panels.architecture_panel import ArchitecturePanel
from cnnstudio.gui.panels.dataset_panel import DatasetPanel
from cnnstudio.gui.panels.plots_panel import PlotsPanel
from cnnstudio.gui.panels.prediction_panel import PredictionPanel
from cnnstudio.gui.panels.runs_panel import RunsPanel
from cnnstudio.gui.panels.training_panel import TrainingPanel
from cnnstudio.gui.registry import call
from cnnstudio.gui.run_follower import RunFollower
from cnnstudio.gui.subject import Subject
from cnnstudio.gui.theme import STYLE, THEMES, apply_theme
from cnnstudio.gui.widgets.device_indicator import DeviceIndicator
from cnnstudio.gui.widgets.pixel_view import PixelViewDialog


def _load_keras() -> list[str]:
    """Background: import Keras (seconds) and list the GPUs."""
    from cnnstudio.core.keras_setup import keras
    from cnnstudio.core.training import devices

    keras()
    return devices.gpu_names()


def _gpu_memory() -> float | None:
    from cnnstudio.core.training import tf_runtime

    return tf_runtime.gpu_memory_mb(0)


def _batching(folder: RunDir) -> tuple[int, int]:
    started = folder.records({"run_started"})
    return (started[-1]["batch_size"], started[-1]["num_train"]) if started else (0, 0)


START_BACKGROUND_MS = 150      # after the window's first paint (benchmarks/startup.py)


class MainWindow(QMainWindow):
    keras_ready = Signal(list)           # GPU names
    closed = Signal()

    def __init__(self, runs_root=None, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("CNN Studio")
        self.runs_root = Path(runs_root) if runs_root else default_runs_root()
        self.settings = settings or QSettings("CNN Studio", "CNN Studio")
        # Replaced in tests: asks before closing while a run trains.
        self.confirm_close = self._ask_close
        self.epoch_hooks: list = []          # (model, epoch) callables on the training thread
        self.tf_ready = False
        self.background = Background(self)
        # First in the queue: the panels' own jobs (summaries) need Keras anyway.
        self.background.submit(_load_keras, self._keras_loaded, self._keras_failed, key="keras")
        self.bridge = RunBridge(self)
        self.dataset = DatasetPanel(self.background)
        self.architecture = ArchitecturePanel(self.background)
        self.training = TrainingPanel()
        self.plots = PlotsPanel()
        self.prediction = PredictionPanel(self.background, self.bridge, window=self)
        self.runs = RunsPanel(self.runs_root)
        self.follower = RunFollower(self.runs.watcher, self.plots, self)   # runs others write
        self.tabs = CentreTabs(self)     # the curves and the task's panels, as tabs
        self.subject = Subject(self)     # what all of them show: the setup, a live or a saved run
        self.setCentralWidget(self.tabs)
        window_docks.install(self)         # the panels docked around the tabs
        self.default_state = self.saveState()
        self.message = QLabel("Loading TensorFlow in the background…")
        self.device = DeviceIndicator()
        self.statusBar().addWidget(self.message, 1)
        self.statusBar().addPermanentWidget(self.device)
        self._memory_timer = QTimer(self)
        self._memory_timer.setInterval(3000)
        self._memory_timer.timeout.connect(self._poll_memory)
        menus.build(self)
        self.setAcceptDrops(True)
        self._wire()
        self._restore()
        self._config_changed()

    # -- wiring ------------------------------------------------------------
    def _wire(self) -> None:
        self.dataset.changed.connect(self._dataset_changed)
        self.dataset.message.connect(self.status)
        self.dataset.sample_clicked.connect(self.show_pixels)
        self.architecture.validity_changed.connect(self._config_changed)
        self.architecture.model_changed.connect(self._config_changed)
        self.training.changed.connect(self._config_changed)
        self.training.start_requested.connect(self.start_training)
        self.training.pause_toggled.connect(self._pause)
        self.training.stop_requested.connect(self.stop_training)
        self.runs.open_requested.connect(self.open_run)
        self.runs.resume_requested.connect(self.resume_run)
        self.runs.compare_requested.connect(self.compare_run)
        self.runs.message.connect(self.status)
        self.follower.status_changed.connect(self._followed_status)
        b = self.bridge
        b.started.connect(self._run_started)
        b.batches.connect(self.training.on_batches)
        b.batches.connect(self.plots.add_batches)
        b.epoch.connect(lambda e: self.plots.add_epoch(e.epoch, e.logs))
        b.epoch.connect(self.training.on_epoch)
        b.epoch.connect(lambda e: self.runs.refresh())     # best metric so far
        b.probe.connect(lambda e: self.runs.refresh())     # epochs done: after the checkpoint
        b.progress.connect(self.training.on_progress)
        b.notice.connect(lambda n: self.status(n.message))
        self.prediction.noted.connect(self.status)
        b.finished.connect(self._run_finished)
        b.failed.connect(self._run_failed)
        b.running_changed.connect(self._running_changed)

    def status(self, text: str) -> None:
        self.message.setText(text)

    # -- background start-up -------------------------------------------------
    def _keras_loaded(self, gpus: list[str]) -> None:
        from cnnstudio.core.keras_setup import backend_name

        self.tf_ready = True
        self.device.set_gpus(gpus)
        self.training.set_gpus(gpus)
        self.status(f"TensorFlow ready (Keras backend: {backend_name()}).")
        if gpus:
            self._memory_timer.start()
        self.keras_ready.emit(gpus)

    def _keras_failed(self, reason: str) -> None:
        self.status(f"TensorFlow could not be loaded: {reason.splitlines()[0]}")

    def _poll_memory(self) -> None:
        if self.background.idle:
            self.background.submit(_gpu_memory, lambda mb: self.device.set_gpus(
                self.device.gpus, mb), lambda _: None, key="memory")

    # -- the config ----------------------------------------------------------
    def run_config(self) -> RunConfig:
        training = self.training.train_config()
        training.augmentation = self.augmentation.augmentation()
        return RunConfig(self.dataset.dataset_config(), self.architecture.model_config(),
                         training)

    def set_run_config(self, config: RunConfig) -> None:
        self.dataset.set_config(config.dataset)
        self.architecture.set_config(config.model)
        self.training.set_config(config.training)
        self.augmentation.set_augmentation(config.training.augmentation)
        self._config_changed()

    def _dataset_changed(self) -> None:
        self.architecture.set_input(*self.dataset.shape_and_classes())
        self._config_changed()

    def problems(self) -> list[str]:
        config = self.run_config()
        found = config.problems()
        if self.dataset.error.isVisible() and self.dataset.dataset is None:
            found.append("dataset: " + self.dataset.error.text())
        if self.architecture.problem_is_error:
            found.append("architecture: " + self.architecture.problem)
        return found

    def _config_changed(self) -> None:
        self.training.set_problems(self.problems())
        if not self.bridge.running:        # while a run trains, the tabs follow that run
            self.show_family(self.architecture.model_id)
            self.subject.config_changed()

    def show_family(self, model_id: str) -> None:
        """Centre tabs, curves and prediction dock as the model's task declares them."""
        try:
            profile = arch_profile(model_id)
        except StudioError:
            return
        self.tabs.set_task(profile.task)
        self.plots.set_profile(profile)
        self.prediction.set_kind(profile.prediction)

    # -- training ------------------------------------------------------------
    def start_training(self) -> None:
        if self.bridge.running:
            return
        problems = self.problems()
        if problems:
            self.training.set_problems(problems)
            self.status("Cannot train: " + problems[0])
            return
        config = self.run_config()
        self.show_family(config.model.id)
        self.follower.stop()
        self.plots.reset(f"New run: {config.model.id} on {config.dataset.id}")
        self.training.on_preparing("Preparing: loading the data and building the model…")
        self.bridge.start(config, runs_root=self.runs_root,
                          epoch_hooks=self.epoch_hooks)

    def resume_run(self, path: str) -> None:
        if self.bridge.running:
            self.status("A run is already training; stop it first.")
            return
        try:
            folder = RunDir.open(path)
            config = folder.config()
        except StudioError as exc:        # not a run folder (any more): say so, keep going
            self.status(str(exc))
            return
        # The form shows the run being resumed (its epochs, its model), not what was there.
        self.set_run_config(config)
        self.show_family(config.model.id)
        self.follower.stop()
        self.plots.load_records(f"Resuming {folder.path.name}", folder.records({"batch_end"}),
                                folder.epoch_history(), _batching(folder))
        self.training.on_preparing("Resuming from the last checkpoint…")
        self.bridge.resume(path, epoch_hooks=self.epoch_hooks)

    def stop_training(self) -> None:
        if self.bridge.running:
            self.bridge.stop()
            self.status("Stopping at the next batch…")

    def _pause(self, paused: bool) -> None:
        (self.bridge.pause if paused else self.bridge.resume_paused)()
        self.status("Paused." if paused else "Training.")

    def _running_changed(self, running: bool) -> None:
        self.training.set_running(running)
        self.runs.refresh()
        if not running:
            self._config_changed()

    def _run_started(self, event) -> None:
        self.training.on_started(event)
        self.plots.set_batching(event.batch_size, event.num_train)
        self.plots.set_span(event.epochs)
        self.plots.title.setText(f"Training {event.model} on {event.dataset} — "
                                 f"{Path(event.run_dir).name}")
        self.prediction.set_run_dir(event.run_dir)
        self.runs.refresh()
        self.subject.live(event.run_dir)
        self.status(f"Training: run folder {event.run_dir}")

    def _run_finished(self, event) -> None:
        self.training.on_finished(event)
        self.plots.flush()
        self.prediction.set_run_dir(event.run_dir)
        self.runs.refresh()
        self.subject.opened(event.run_dir, self.run_config())
        self.status(f"Run {event.status}: {Path(event.run_dir).name}")

    def _run_failed(self, reason: str) -> None:
        self.training.on_failed(reason)
        self.status("Training failed: " + reason)

    # -- runs ----------------------------------------------------------------
    def open_run(self, path: str) -> None:
        if self.bridge.running and self.bridge.run_dir and Path(path) == self.bridge.run_dir:
            self.status("That run is training in this window: its curves are live already.")
            return
        try:
            folder = RunDir.open(path)
            config = folder.config()
        except StudioError as exc:
            self.status(str(exc))
            return
        self.set_run_config(config)           # first: the form (and the subject) is this run's
        self.show_family(config.model.id)
        self.plots.load_records(f"Run {folder.path.name} ({folder.status()})",
                                folder.records({"batch_end"}), folder.epoch_history(),
                                _batching(folder))
        self.follower.follow(folder.path)     # its curves keep growing if it is still training
        self.prediction.set_run_dir(folder.path)
        self.tabs.open_run(folder.path)
        self.subject.opened(folder.path, config)
        self.status(f"Opened run {folder.path.name}")

    def _followed_status(self, path: str, status: str) -> None:
        self.plots.title.setText(f"Run {Path(path).name} ({status})")
        self.status(f"Run {Path(path).name}: {status}")

    def compare_run(self, path: str) -> None:
        folder = RunDir.open(path)
        self.plots.add_overlay(folder.path.name, folder.epoch_history())

    def ask_open_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a run folder", str(self.runs_root))
        if path:
            self.open_run(path)

    def show_pixels(self, image, caption: str) -> PixelViewDialog:
        dialog = PixelViewDialog(image, caption, self._predict_sample, self)
        dialog.show()
        return dialog

    def _predict_sample(self, image, caption: str) -> None:
        self.docks["prediction"].raise_()
        self.prediction.predict_image(image, f"a sample of class {caption}")

    # -- drops: a folder is a dataset, a file is something to classify ---------
    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        self.drop_paths([u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()])
        event.acceptProposedAction()

    def drop_paths(self, paths: list[str]) -> None:
        for path in paths[:1]:
            if Path(path).is_dir():
                self.dataset.open_folder(path)
            elif (Path(path) / "config.json").is_file():
                self.open_run(path)
            else:
                if not is_image_name(path):
                    self.status(f"{Path(path).name} does not look like an image; trying anyway")
                self.prediction.predict_file(path)

    # -- themes, layout, closing ------------------------------------------------
    def set_theme(self, name: str) -> None:
        theme = THEMES[name]
        app = QApplication.instance()
        apply_theme(app, theme)
        app.setStyleSheet(STYLE % {"error": theme.error, "muted": theme.muted,
                                   "base": theme.base, "accent": theme.accent})
        self.plots.apply_theme(theme)
        self.device.apply_theme(theme)
        for view in self.prediction.views.values():     # bar charts take the theme's accent
            call(view, "apply_accent", self.palette().highlight().color())
        self.settings.setValue("theme", name)

    def reset_layout(self) -> None:
        self.restoreState(self.default_state)

    def _restore(self) -> None:
        self.set_theme(str(self.settings.value("theme", "light")))
        geometry = self.settings.value("geometry")
        state = self.settings.value("state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def _ask_close(self) -> bool:
        answer = QMessageBox.question(
            self, "A run is training",
            "Stop the run and close CNN Studio?\n\nThe run stops at the next batch and can be "
            "resumed later from the Runs panel.")
        return answer == QMessageBox.Yes

    def showEvent(self, event):
        super().showEvent(event)
        # TensorFlow's import (on the background thread) holds the GIL for seconds: start it
        # once the first paint is done, so the window shows without waiting on it.
        QTimer.singleShot(START_BACKGROUND_MS, self.background.start)

    def closeEvent(self, event):
        if self.bridge.running:
            # Nothing trains while the question is open: the run holds after its batch, and
            # goes on as it was if the answer is No.
            was_paused = self.bridge.paused
            self.bridge.pause()
            if not self.confirm_close():
                if not was_paused:
                    self.bridge.resume_paused()
                event.ignore()
                return
        self.status("Stopping the run…")
        self.bridge.join()
        self.background.shutdown()
        self.tabs.close_panels()
        self.prediction.close_views()       # their inference copies' worker threads
        self._memory_timer.stop()
        self.plots.stop_timers()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.settings.sync()
        event.accept()
        self.closed.emit()
