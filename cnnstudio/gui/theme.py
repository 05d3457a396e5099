"""Light, dark and high-contrast themes: a Fusion palette for the widgets, matching colours
for the plots."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str
    text: str
    muted: str
    accent: str
    plot_bg: str
    plot_fg: str
    train: str          # training curve (per batch)
    val: str            # validation curve (per epoch)
    error: str
    warning: str
    ok: str
    on_accent: str = "#ffffff"   # text on the accent colour (selected rows, the Train button)
    button: str | None = None     # buttons' face; None: the window's colour
    line_scale: float = 1.0       # plot line widths × this (the contrast theme's thick lines)


LIGHT = Theme("light", "#f3f3f3", "#ffffff", "#1e1e1e", "#5f6368", "#1a73e8", "#ffffff",
              "#303030", "#4f86c6", "#e8710a", "#c5221f", "#b06000", "#188038")
DARK = Theme("dark", "#2b2b2b", "#1f1f1f", "#e8e8e8", "#a0a0a0", "#8ab4f8", "#1a1a1a",
             "#d0d0d0", "#6fa8ff", "#ffa04d", "#f28b82", "#fdd663", "#81c995")
# For a projector at the back of a room (presenter mode): black, white text, yellow accent,
# bright curves and thick lines. Buttons are a dark grey so their edges still show.
CONTRAST = Theme("contrast", "#000000", "#000000", "#ffffff", "#d0d0d0", "#ffd400", "#000000",
                 "#ffffff", "#33ccff", "#ffd400", "#ff6e6e", "#ffd400", "#66ff88",
                 on_accent="#000000", button="#2a2a2a", line_scale=1.6)
THEMES = {"light": LIGHT, "dark": DARK, "contrast": CONTRAST}
# Overlaid runs (comparison) cycle through these, dashed.
OVERLAY_COLOURS = ["#9c27b0", "#009688", "#795548", "#607d8b", "#e91e63", "#3f51b5"]


def apply_theme(app: QApplication, theme: Theme) -> None:
    if app.property("cnnstudio_fusion") is not True:
        # Once: setting it again re-polishes every widget of the window (about a second).
        # (Under a style sheet app.style() is Qt's wrapper, so its name cannot tell.)
        app.setStyle("Fusion")
        app.setProperty("cnnstudio_fusion", True)
    p = QPalette()
    text, base, window = QColor(theme.text), QColor(theme.base), QColor(theme.window)
    button = QColor(theme.button or theme.window)
    for role, colour in ((QPalette.Window, window), (QPalette.WindowText, text),
                         (QPalette.Base, base), (QPalette.AlternateBase, window),
                         (QPalette.Text, text), (QPalette.Button, button),
                         (QPalette.ButtonText, text), (QPalette.ToolTipBase, base),
                         (QPalette.ToolTipText, text), (QPalette.Highlight, QColor(theme.accent)),
                         (QPalette.HighlightedText, QColor(theme.on_accent)),
                         (QPalette.Link, QColor(theme.accent)),
                         (QPalette.PlaceholderText, QColor(theme.muted))):
        p.setColor(role, colour)
    p.setColor(QPalette.Disabled, QPalette.Text, QColor(theme.muted))
    p.setColor(QPalette.Disabled, QPalette.ButtonText, QColor(theme.muted))
    p.setColor(QPalette.Disabled, QPalette.WindowText, QColor(theme.muted))
    app.setPalette(p)


# The window's style sheet: object names the panels give their labels and buttons.
STYLE = """
QLabel#error { color: %(error)s; }
QLabel#muted { color: %(muted)s; }
QLabel#heading { font-weight: bold; font-size: 13px; }
QLabel#imageWell { border: 1px solid %(muted)s; background: %(base)s; }
QPushButton#primary:enabled { background: %(accent)s; color: palette(highlighted-text);
                              font-weight: bold; }
"""
