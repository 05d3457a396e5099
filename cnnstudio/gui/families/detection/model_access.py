"""Which model answers in the detection views, and where it runs.

``WaitingAccess`` is ``ModelAccess`` (the model where it lives: the training thread
between batches, else an inference copy) that also says whether the latest answer is still
on its way, so screenshot mode waits for the detection tabs as it does for the others
(``busy()``).

``answering_model`` says which model a detection view asks: the one the window's current
architecture or run names. The ``maskrcnn-coco`` preset (task "coco-pretrained") names the
pretrained COCO Mask R-CNN, whatever run was trained or opened before; a ``maskrcnn`` run
(task "detection") answers with its own model, and without one only the pretrained model
can.
"""

from __future__ import annotations

from pathlib import Path

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.detection.coco_model import COCO_PROFILE
from cnnstudio.gui.model_access import ModelAccess

COCO_TASK = COCO_PROFILE.task        # "coco-pretrained"
RUN_MODEL, COCO_MODEL = "run", "coco"


class WaitingAccess(ModelAccess):
    def __init__(self, window, answers):
        super().__init__(window, answers)
        self.waiting = False

    def submit(self, key: str, fn, on_result, on_error) -> None:
        self.waiting = True

        def arrived(callback):
            def call(value):
                self.waiting = False     # only the latest request is ever answered
                callback(value)
            return call

        super().submit(key, fn, arrived(on_result), arrived(on_error))

    def busy(self) -> bool:
        return self.waiting


def current_task(window) -> str | None:
    """The task the window shows now: the picked architecture's, or the training or opened
    run's (the centre tabs follow it); None without a window."""
    return getattr(getattr(window, "tabs", None), "task", None)


_RUN_TASKS: dict[Path, str] = {}     # a run folder's model never changes


def run_task(run_dir) -> str | None:
    """The task of the model a run folder trained; None when its config cannot be read."""
    from cnnstudio.core.families.profile import arch_profile
    from cnnstudio.core.training.rundir import RunDir

    path = Path(run_dir)
    if path not in _RUN_TASKS:
        try:
            _RUN_TASKS[path] = arch_profile(RunDir.open(path).config().model.id).task
        except (StudioError, OSError, ValueError, KeyError, TypeError):
            return None
    return _RUN_TASKS[path]


def run_serves(run_dir, task: str | None) -> bool:
    """Whether ``run_dir``'s model is the one the window's ``task`` names (a folder whose
    config cannot be read is taken at its word)."""
    if run_dir is None or task == COCO_TASK:
        return False
    if task is None:
        return True
    found = run_task(Path(run_dir))
    return found is None or found == task


def answering_model(window, run_dir) -> str:
    """``COCO_MODEL`` or ``RUN_MODEL``: which model finds the objects in a new image."""
    return RUN_MODEL if run_serves(run_dir, current_task(window)) else COCO_MODEL
