"""File → "Open Teachable Machine model…": a TM Keras export opened as a run in the window.

A teacher picks ``keras_model.h5`` (``labels.txt`` is looked for beside it, as the export's
zip holds both; when it is not there a second dialog asks for it). The import (Keras 3's
``groups`` fix, a private copy, a new finished run: core's ``teachable_import``) runs on the
window's background worker, with a status line while it works; the new run then opens like
any other, so the prediction dock classifies with it and the Grad-CAM tab explains it.
The run's dataset and model are none of the pickers' choices: the pickers keep what they
held, or, when that was another family's model, turn to fine-tuning this run (from-run).
Anything wrong with the files is one line in the status bar and in a message box; the
window goes on.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

ACTION_ID = "teachable-machine"
ACTION_TEXT = "Open Teachable Machine model…"
TIP = ("Open a Teachable Machine Keras export (keras_model.h5 with labels.txt beside it) as "
       "a new run: classify images with it and see where it looks (Grad-CAM). Offline.")
LABELS = "labels.txt"
TITLE = "Teachable Machine model"
FINE_TUNE = "from-run"                    # core's architecture that starts from a run's model
LAST_FOLDER = "teachable/folder"          # window.settings: where the last export was


def open_dialog(window) -> None:
    """The menu's slot: ask for the model (and its labels when not beside it), import."""
    start = str(window.settings.value(LAST_FOLDER, "") or Path.home())
    path, _ = QFileDialog.getOpenFileName(
        window, "Open a Teachable Machine model (keras_model.h5)", start,
        "Keras HDF5 model (*.h5 *.hdf5);;All files (*)")
    if not path:
        return
    model = Path(path)
    window.settings.setValue(LAST_FOLDER, str(model.parent))
    labels = model.parent / LABELS
    if not labels.is_file():
        chosen, _ = QFileDialog.getOpenFileName(
            window, f"{LABELS} is not beside {model.name}: where is it?", str(model.parent),
            "Class labels (*.txt);;All files (*)")
        if not chosen:
            tell(window, f"Not opened: {model.name} needs the {LABELS} of the same export "
                         f"(none in {model.parent}).")
            return
        labels = Path(chosen)
    start_import(window, model, labels)


def start_import(window, model, labels) -> int:
    """Import on the background worker, then open the run; the job's id."""
    from cnnstudio.core.families.classification.teachable_import import import_teachable

    model, labels = Path(model), Path(labels)
    action = getattr(window, "family_actions", {}).get(ACTION_ID)
    if action is not None:
        action.setEnabled(False)          # one import at a time: each writes a run
    window.status(f"Opening {model.name} from Teachable Machine (Keras 3 fix, a new run)…")

    def done(run_dir) -> None:
        _enable(action)
        opened(window, Path(run_dir))

    def failed(reason: str) -> None:
        _enable(action)
        tell(window, f"Could not open {model.name}: {reason.splitlines()[0]}")

    runs_root = window.runs_root
    return window.background.submit(
        lambda: import_teachable(model, labels, runs_root=runs_root), done, failed)


def opened(window, run_dir: Path) -> None:
    """The new run, shown as a finished classification run with its classes."""
    from cnnstudio.core.config import ModelConfig
    from cnnstudio.core.training.rundir import RunDir

    setup = window.run_config()
    if not classifies(setup.model.id):
        # The pickers decide the window's family (tabs, prediction view) whenever they
        # change, so they must hold a classifier: the nearest to this run is fine-tuning it.
        setup.model = ModelConfig(FINE_TUNE, {"run": str(run_dir)})
        window.set_run_config(setup)
    window.runs.refresh()
    window.open_run(str(run_dir))
    shown = window.subject.run_dir
    if shown is None or Path(shown).resolve() != run_dir.resolve():
        return                            # open_run said why in the status line
    # The run's dataset ("teachable-machine") and model ("imported") are none of the
    # pickers' choices, so open_run left them showing "unknown …" errors: the pickers go
    # back to what they held (the same lesson, so the run stays on screen).
    window.set_run_config(setup)
    window.docks["prediction"].raise_()
    names = RunDir.open(run_dir).read_json("dataset.json").get("class_names", [])
    listed = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    window.status(f"Opened the Teachable Machine model as run {run_dir.name}: "
                  f"{len(names)} classes ({listed}). Drop an image to classify it.")


def classifies(model_id: str) -> bool:
    """True when the window shows a model of ``model_id`` with the classifier's prediction
    view (an unknown id: False)."""
    from cnnstudio.core.errors import StudioError
    from cnnstudio.core.families.profile import arch_profile

    try:
        return arch_profile(model_id).prediction == "classify"
    except StudioError:
        return False


def tell(window, line: str) -> QMessageBox:
    """One line in the status bar and in a message box that does not block the window."""
    window.status(line)
    box = QMessageBox(QMessageBox.Warning, TITLE, line, QMessageBox.Ok, window)
    box.setAttribute(Qt.WA_DeleteOnClose)
    window.teachable_message = box
    box.open()
    return box


def _enable(action) -> None:
    if action is not None:
        action.setEnabled(True)
