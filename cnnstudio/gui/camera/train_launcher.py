"""Train on what the camera captured, through the window's own path: the config goes into
the pickers (so the Dataset, Architecture and Training panels show what trains, and the
run is an ordinary run of the Runs panel), then ``window.start_training()`` once the
dataset is read and the layer table is built — the window refuses a half-loaded setup.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from cnnstudio.core.config import RunConfig


class TrainLauncher(QObject):
    started = Signal(object)        # the RunConfig that went to start_training
    failed = Signal(str)            # one line

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window = window
        self.pending: RunConfig | None = None

    def launch(self, config: RunConfig) -> None:
        w = self.window
        if w.bridge.running:
            self.failed.emit("a run is training: stop it first (Esc), then press Train again")
            return
        self._forget_cached(config)
        self.pending = config
        w.dataset.changed.connect(self._check)
        w.architecture.validity_changed.connect(self._check)
        w.set_run_config(config)
        self._check()

    def cancel(self) -> None:
        if self.pending is not None:
            self.pending = None
            self._disconnect()

    def _forget_cached(self, config: RunConfig) -> None:
        # The dataset panel keeps folders it read by their options; frames recorded since
        # must count, so that folder is read again.
        self.window.dataset.forget_folder(str(config.dataset.options.get("path")))

    def _disconnect(self) -> None:
        w = self.window
        for signal in (w.dataset.changed, w.architecture.validity_changed):
            try:
                signal.disconnect(self._check)
            except (RuntimeError, TypeError):
                pass

    def _check(self) -> None:
        config, w = self.pending, self.window
        if config is None:
            return
        dataset = w.dataset
        if dataset.dataset is None:
            if dataset.error.isVisible():
                self._fail("the captured frames cannot be read: " + dataset.error.text())
            return                                  # still loading
        if Path(dataset.folder or "") != Path(config.dataset.options["path"]):
            return                                  # the previous dataset, on its way out
        arch = w.architecture
        if arch.problem is not None:
            if arch.problem_is_error:
                self._fail("the model cannot be built: " + arch.problem)
            return                                  # the layer table is being built
        self.pending = None
        self._disconnect()
        w.start_training()
        if not w.bridge.running:                    # it said why on the status line
            self.failed.emit(w.message.text() or "the window did not start training")
            return
        self.started.emit(config)

    def _fail(self, text: str) -> None:
        self.pending = None
        self._disconnect()
        self.failed.emit(text)
