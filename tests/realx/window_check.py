"""Run in a real X server (by test_real_screen.py): open the studio, load every preset in
turn, show each of its tabs, and print one JSON line per preset with the window's frame,
the screen's available area, and whether Train and Stop are on screen and unobscured."""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QSettings
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def settle(app, rounds: int = 20) -> None:
    for _ in range(rounds):
        app.processEvents()


def main(settings_path: str, runs: str) -> int:
    app = QApplication(sys.argv[:1])
    from cnnstudio.gui.main_window import MainWindow
    from cnnstudio.gui.presets import list_presets

    window = MainWindow(runs_root=runs, settings=QSettings(settings_path, QSettings.IniFormat))
    window.confirm_close = lambda: True
    window.show()
    # A loaded machine maps and places the window later: wait until X says it is exposed
    # (settling a fixed number of rounds was not always enough under a full test run).
    QTest.qWaitForWindowExposed(window, 10_000)
    settle(app, 60)
    screen = window.screen().availableGeometry()

    def report(name: str) -> None:
        settle(app)
        for _ in range(20):                  # up to 2 s for the window manager's placing
            centre = window.training.start.mapToGlobal(window.training.start.rect().center())
            if QApplication.widgetAt(centre) is window.training.start:
                break
            QTest.qWait(100)
        frame = window.frameGeometry()
        buttons = {}
        for key, button in (("train", window.training.start), ("stop", window.training.stop)):
            centre = button.mapToGlobal(button.rect().center())
            above = QApplication.widgetAt(centre)
            buttons[key] = (button.isVisible() and not button.visibleRegion().isEmpty()
                            and screen.contains(centre) and above is button)
            if above is not button:          # say what covers it
                buttons[f"{key}_covered_by"] = type(above).__name__ if above else None
        print(json.dumps({"preset": name, "platform": QApplication.platformName(),
                          "screen": [screen.x(), screen.y(), screen.width(), screen.height()],
                          "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
                          "inside": screen.contains(frame), **buttons}), flush=True)

    report("start")
    for preset in list_presets():
        config = preset.config()
        window.set_run_config(config)
        window.show_family(config.model.id)
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            settle(app, 5)
        report(preset.key)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
