"""Menus and shortcuts of the main window (kept apart so the window reads as data flow)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from cnnstudio.core.errors import StudioError
from cnnstudio.gui import export_action, presenter
from cnnstudio.gui.menu_action import add_action as _action
from cnnstudio.gui.presenter import menu_entries
from cnnstudio.gui.presets import list_presets
from cnnstudio.gui.registry import MENU_ACTIONS


def build(window) -> None:
    presenter.install(window)           # window.presenter: F5, its keys, the caption bar
    bar = window.menuBar()
    file = bar.addMenu("&File")
    _action(window, file, "Open run…", window.ask_open_run, QKeySequence.Open,
            "Open a run folder: its curves, its model for predictions.")
    _action(window, file, "Open image folder as dataset…", window.dataset._ask_folder,
            "Ctrl+Shift+O", "Train on your own images (one sub-folder per class).")
    _action(window, file, "Open image to classify…", window.prediction._ask_file, "Ctrl+I",
            "Classify one image with the current model.")
    _action(window, file, "Paste image to classify", window.prediction.paste,
            QKeySequence.Paste, "Classify the image on the clipboard.")
    window.family_actions = {}
    for entry in MENU_ACTIONS:              # what the families add (the COCO Mask R-CNN, …)
        if entry.menu == "File":
            window.family_actions[entry.id] = _action(
                window, file, entry.text, lambda _=False, e=entry: e.slot(window), tip=entry.tip)
            if entry.setup is not None:
                entry.setup(window)
    presets = file.addMenu("Load preset")
    window.preset_actions = {}
    for preset in list_presets():
        window.preset_actions[preset.key] = _action(
            window, presets, preset.title, lambda _=False, p=preset: load_preset(window, p),
            tip=f"Load the settings of {preset.key}.json")
    menu_entries.build_lessons_menu(window, file)
    file.addSeparator()
    _action(window, file, "Save settings as…", lambda: save_config(window), QKeySequence.Save,
            "Save the current settings as a RunConfig JSON file (cnnstudio train --config).")
    _action(window, file, "Load settings…", lambda: load_config(window), "Ctrl+L",
            "Load a RunConfig JSON file into the pickers.")
    file.addSeparator()
    window.export_action = _action(
        window, file, "Export…", lambda: export_action.ask_export(window), "Ctrl+E",
        "Export the current run as SavedModel, TFLite or ONNX, self-tested against Keras.")
    file.addSeparator()
    _action(window, file, "Quit", window.close, QKeySequence.Quit, "Close CNN Studio.")

    run = bar.addMenu("&Run")
    window.train_action = _action(window, run, "Train", window.start_training, "Ctrl+R",
                                  "Start a new run with the current settings.")
    _action(window, run, "Pause / resume", window.training.pause.toggle, "Ctrl+P",
            "Hold or continue the current run.")
    # Esc: in presenter mode it leaves presenter mode instead (the presenter takes it).
    window.stop_action = _action(window, run, "Stop", window.stop_training, Qt.Key_Escape,
                                 "Stop at the next batch; the run stays resumable.")

    view = bar.addMenu("&View")
    for dock in window.docks.values():
        view.addAction(dock.toggleViewAction())
    view.addSeparator()
    themes = QActionGroup(window)
    window.theme_actions = {}
    for name in ("light", "dark", "contrast"):
        action = _action(window, view, f"{name.capitalize()} theme",
                         lambda _=False, n=name: window.set_theme(n))
        action.setCheckable(True)
        action.setChecked(str(window.settings.value("theme", "light")) == name)
        themes.addAction(action)
        window.theme_actions[name] = action
    _action(window, view, "Reset layout", window.reset_layout, tip="Put every panel back.")
    view.addSeparator()
    menu_entries.build_view_entries(window, view)

    help_menu = bar.addMenu("&Help")
    _action(window, help_menu, "About CNN Studio", lambda: QMessageBox.about(
        window, "CNN Studio",
        "CNN Studio: pick a dataset and a network, press Train, watch it learn.\n"
        "Runs are saved in " + str(window.runs_root)))


def load_preset(window, preset) -> None:
    try:
        config = preset.config()
    except StudioError as exc:
        window.status(str(exc))
        return
    window.set_run_config(config)
    window.status(f"Preset loaded: {preset.title}")


def save_config(window) -> None:
    path, _ = QFileDialog.getSaveFileName(window, "Save settings", "run.json", "JSON (*.json)")
    if path:
        from cnnstudio.core.atomic import write_text
        from cnnstudio.core.errors import StudioError

        try:            # whole or not at all: a full disk leaves the earlier file
            write_text(path, window.run_config().to_json())
        except StudioError as exc:
            window.status(str(exc))
            return
        window.status(f"Saved {path}")


def load_config(window) -> None:
    from cnnstudio.core.config import RunConfig

    path, _ = QFileDialog.getOpenFileName(window, "Load settings", "", "JSON (*.json)")
    if path:
        try:
            window.set_run_config(RunConfig.load(path))
        except StudioError as exc:
            window.status(str(exc))
