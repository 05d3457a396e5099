"""Where the camera tab's frames come from: a camera found on this computer, a video file, a
rectangle of the screen, or generated digits (a demo without any camera).

A choice is a small spec, kept so the tab can open the same source again (after Train the
tab is built afresh for the new run):

    ("generated",)  ("camera", index)  ("video", path)  ("screen", (x, y, w, h))

``open_source(spec)`` makes the FrameSource; a bad one raises StudioError with one line.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, Signal
from PySide6.QtWidgets import QComboBox, QDialog, QFileDialog

from cnnstudio.core.errors import StudioError

GENERATED = ("generated",)
VIDEO_ITEM = ("video-pick",)
SCREEN_ITEM = ("screen-pick",)
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *.mpeg);;All files (*)"


def open_source(spec: tuple, width: int = 640, height: int = 480):
    kind = spec[0]
    if kind == "generated":
        from cnnstudio.core.camera import GeneratedSource

        return GeneratedSource(width, height, fps=30)
    if kind == "camera":
        from cnnstudio.core.camera import CameraSource

        return CameraSource(int(spec[1]), width, height)
    if kind == "video":
        from cnnstudio.core.camera import VideoFileSource

        return VideoFileSource(spec[1], loop=True, realtime=True)
    if kind == "screen":
        from cnnstudio.gui.camera.screen_source import ScreenRegionSource

        return ScreenRegionSource(QRect(*spec[1]))
    raise StudioError(f"unknown frame source {kind!r}")


def describe(spec: tuple) -> str:
    kind = spec[0]
    if kind == "video":
        return f"Video: {Path(spec[1]).name}"
    if kind == "screen":
        x, y, w, h = spec[1]
        return f"Screen {w}×{h} at ({x}, {y})"
    if kind == "camera":
        return f"Camera {spec[1]}"
    return "Generated digits"


class SourceChooser(QComboBox):
    chosen = Signal(tuple)          # a usable spec was picked (not the "…" items themselves)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setToolTip("Where the frames come from: a camera, a video file, a part of the "
                        "screen (pictures from a browser), or generated digits")
        self.setMinimumContentsLength(18)
        self.addItem("Generated digits", GENERATED)
        self.insertSeparator(self.count())
        self.addItem("Video file…", VIDEO_ITEM)
        self.addItem("Screen region…", SCREEN_ITEM)
        self._current: tuple = GENERATED
        self.cameras_listed = False
        self.activated.connect(self._activated)

    def spec(self) -> tuple:
        return self._current

    def set_cameras(self, cameras) -> None:
        """The cameras found (CameraInfo), listed first; the first becomes the choice when
        generated digits were still chosen."""
        self.cameras_listed = True
        for info in reversed(cameras):
            spec = ("camera", info.index)
            if self.findData(spec) < 0:
                self.insertItem(0, f"{info.name} ({info.width}×{info.height})", spec)
        if cameras and self._current == GENERATED:
            self.choose(("camera", cameras[0].index))
        else:
            self._show(self._current)

    def choose(self, spec: tuple, emit: bool = True) -> None:
        """Make ``spec`` the choice (a video or a region gets its own item to come back to)."""
        spec = tuple(spec)
        if self.findData(spec) < 0:
            self.insertItem(self.findData(VIDEO_ITEM) - 1, describe(spec), spec)
        self._current = spec
        self._show(spec)
        if emit:
            self.chosen.emit(spec)

    def _show(self, spec: tuple) -> None:
        self.blockSignals(True)
        self.setCurrentIndex(self.findData(spec))
        self.blockSignals(False)

    def _activated(self, index: int) -> None:
        spec = self.itemData(index)
        if spec == VIDEO_ITEM:
            path, _ = QFileDialog.getOpenFileName(self, "Open a video file", "", VIDEO_FILTER)
            self.choose(("video", path)) if path else self._show(self._current)
        elif spec == SCREEN_ITEM:
            from cnnstudio.gui.camera.region_dialog import RegionDialog

            dialog = RegionDialog(self.window())
            if dialog.exec() == QDialog.Accepted:
                r = dialog.region()
                self.choose(("screen", (r.x(), r.y(), r.width(), r.height())))
            else:
                self._show(self._current)
        elif spec is not None:
            self.choose(tuple(spec))
