"""The main window's docks and their first layout: pickers on the left, training and
prediction on the right, the runs table under the centre tabs.

Kept apart from main_window.py so the window reads as data flow; ``install`` sets
``window.docks`` (key → QDockWidget) and ``window.augmentation`` (tabbed with Training).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from cnnstudio.gui.panels import augmentation_panel


def install(window) -> None:
    window.docks = {}
    for key, title, panel, area in (
            ("dataset", "Dataset", window.dataset, Qt.LeftDockWidgetArea),
            ("architecture", "Architecture", window.architecture, Qt.LeftDockWidgetArea),
            ("training", "Training", window.training, Qt.RightDockWidgetArea),
            ("prediction", "Prediction", window.prediction, Qt.RightDockWidgetArea),
            ("runs", "Runs", window.runs, Qt.BottomDockWidgetArea)):
        dock = QDockWidget(title, window)
        dock.setObjectName(f"dock_{key}")       # saveState/restoreState find docks by name
        dock.setWidget(panel)
        window.addDockWidget(area, dock)
        window.docks[key] = dock
    window.augmentation = augmentation_panel.install(window)
    # Side columns run the full height; the runs table sits under the plots only.
    window.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)
    window.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)
    window.resize(1440, 900)
    docks = window.docks
    window.resizeDocks([docks["dataset"], docks["training"]], [390, 400], Qt.Horizontal)
    window.resizeDocks([docks["dataset"], docks["architecture"]], [430, 470], Qt.Vertical)
    window.resizeDocks([docks["training"], docks["prediction"]], [500, 400], Qt.Vertical)
    window.resizeDocks([docks["runs"]], [190], Qt.Vertical)
