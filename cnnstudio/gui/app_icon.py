"""The studio's icon as a QIcon: the shipped PNG sizes (crisp at 16–512 px), the SVG
beside them for any other size."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def app_icon() -> QIcon:
    icon = QIcon()
    for size in SIZES:
        path = ICONS / "hicolor" / f"{size}x{size}" / "apps" / "cnnstudio.png"
        if path.is_file():
            icon.addFile(str(path))
    svg = ICONS / "cnnstudio.svg"
    if svg.is_file():
        icon.addFile(str(svg))
    return icon
