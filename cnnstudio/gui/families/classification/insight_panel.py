"""The base of the classifier's model-backed insight panels: a runner, a status line, update
signals."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QWidget

from cnnstudio.gui.model_access import Answers, ModelRunner, Runner


class InsightPanel(QWidget):
    """Base of the model-backed insight panels: a runner, a status line, update signals.

    ``set_run(run_dir)`` opens a saved run with its own inference copy;
    ``set_runner(submit, class_names)`` uses a live run (``RunControl.submit``);
    ``set_model(model)`` wraps a model the panel may use from its own worker thread.
    """
    updated = Signal()               # the view changed (tests wait on this)
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.runner: Runner | None = None
        self._owned: ModelRunner | None = None
        self.class_names: list[str] = []
        self.run_dir: Path | None = None
        self.answers = Answers(self)
        self.status = QLabel("Open a run or start training to see inside the network.")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #8a8a8a;")

    # -- where the model comes from ----------------------------------------
    def set_run(self, run_dir) -> None:
        from cnnstudio.core.training.rundir import RunDir

        folder = RunDir.open(run_dir)
        self.run_dir = folder.path
        names = (folder.read_json("dataset.json", {}) or {}).get("class_names") or []
        try:
            runner = ModelRunner.from_run(folder.path)
        except FileNotFoundError as exc:
            self._fail(exc)
            return
        self._use(runner, names, owned=runner)

    def set_model(self, model, class_names=None) -> None:
        runner = ModelRunner(model)
        self._use(runner, class_names or [], owned=runner)

    def set_runner(self, runner: Runner, class_names=None, run_dir=None) -> None:
        self.run_dir = Path(run_dir) if run_dir else self.run_dir
        self._use(runner, class_names or [], owned=None)

    def _use(self, runner, class_names, owned) -> None:
        self.close_runner()
        self.runner, self._owned = runner, owned
        self.class_names = [str(c) for c in class_names]
        self.model_changed()

    def close_runner(self) -> None:
        if self._owned is not None:
            self._owned.close()
        self._owned = None

    def closeEvent(self, event):     # noqa: N802 (Qt's name)
        self.close_runner()
        super().closeEvent(event)

    # -- for subclasses ------------------------------------------------------
    def model_changed(self) -> None:
        """A new model source: refresh what the panel shows."""

    def compute(self, key: str, fn, on_result) -> bool:
        """Run ``fn(model)`` where the model lives; ``on_result`` runs on the GUI thread."""
        if self.runner is None:
            return False
        try:
            future = self.runner(fn)
        except Exception as exc:    # a live run that has just ended
            self._fail(exc)
            return False
        self.answers.watch(key, future, on_result, self._fail)
        return True

    def _fail(self, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"⚠ {text}")
        self.failed.emit(text)

    def class_name(self, index: int) -> str:
        return self.class_names[index] if 0 <= index < len(self.class_names) else str(index)
