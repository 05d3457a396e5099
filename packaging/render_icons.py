"""Render cnnstudio/resources/icons/cnnstudio.svg to the PNG sizes desktops ask for.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py

Run it after changing the SVG and commit the PNGs (hicolor/<N>x<N>/apps/cnnstudio.png):
the wheel ships them, so installing needs no SVG renderer.
"""

from __future__ import annotations

import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parents[1] / "cnnstudio" / "resources" / "icons"


def render(svg: Path = ICONS / "cnnstudio.svg", out: Path = ICONS / "hicolor") -> list[Path]:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])   # fonts, painting
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {svg}")
    written = []
    for size in SIZES:
        image = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
        image.fill(Qt.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = out / f"{size}x{size}" / "apps" / "cnnstudio.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path)):
            raise SystemExit(f"cannot write {path}")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in render():
        print(path)
