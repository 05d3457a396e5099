"""The main window's docks and their first layout: pickers on the left, training and
prediction on the right, the runs table under the centre tabs.

Kept apart from main_window.py so the window reads as data flow; ``install`` sets
``window.docks`` (key → QDockWidget) and ``window.augmentation`` (tabbed with Training).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget

from cnnstudio.gui.panels import augmentation_panel
from cnnstudio.gui.widgets.vscroll import scroller

# The window a large screen gets; a smaller one (a 1366×768 laptop) gets its available
# area, the docks in the same proportions, and scroll bars where content does not fit.
PREFERRED = (1440, 900)
SIDE_MIN_WIDTH = 230          # a dock narrower than this is no use


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
        # A dock scrolls rather than push the window past the screen.
        dock.setWidget(scroller(panel, 0 if area == Qt.BottomDockWidgetArea else SIDE_MIN_WIDTH))
        window.addDockWidget(area, dock)
        window.docks[key] = dock
    window.augmentation = augmentation_panel.install(window)
    # Side columns run the full height; the runs table sits under the plots only.
    window.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)
    window.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)
    fit_to_screen(window)


def window_size(window) -> tuple[int, int]:
    """The preferred size, or less: the screen's available area (no panels, no task bar)
    less room for the window manager's frame and title bar. Offscreen (tests, screenshot
    mode) there is no real screen: the preferred size."""
    if QApplication.platformName() == "offscreen" or window.screen() is None:
        return PREFERRED
    area = window.screen().availableGeometry()
    return min(PREFERRED[0], area.width() - 16), min(PREFERRED[1], area.height() - 48)


def fit_to_screen(window) -> None:
    """The first layout, scaled to the screen: never larger than it."""
    width, height = window_size(window)
    window.resize(width, height)
    docks = window.docks
    side = max(SIDE_MIN_WIDTH, width * 27 // 100)
    window.resizeDocks([docks["dataset"], docks["training"]], [side, side], Qt.Horizontal)
    window.resizeDocks([docks["dataset"], docks["architecture"]],
                       [height * 48 // 100, height * 52 // 100], Qt.Vertical)
    window.resizeDocks([docks["training"], docks["prediction"]],
                       [height * 55 // 100, height * 45 // 100], Qt.Vertical)
    window.resizeDocks([docks["runs"]], [height * 21 // 100], Qt.Vertical)
