"""Faces, two eras side by side (a page of the Haar tab): Viola–Jones's boosted Haar cascade
(2001) and MTCNN's cascade of three small CNNs (2016) on the same photo, each with its boxes,
the CNN's five landmarks, and each detector's own time.

It opens on scikit-image's astronaut; a dropped or opened photo replaces it. The cascade
runs on the GUI thread (tens of ms); the CNN on a worker thread: its first use loads
TensorFlow and the three networks (seconds), so nothing starts until the page is shown.
Below: the figures benchmarks/faces.py measured last (recall, false boxes per image, ms),
read from the JSON it ships in the package, with the machine they were measured on.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.detection import cnn_faces
from cnnstudio.core.families.detection.haar_detect import detect_haar
from cnnstudio.core.families.detection.haar_probes import draw_boxes
from cnnstudio.gui.model_access import Answers

BACKGROUND = "#1e1e1e"
FIGURES = Path(__file__).resolve().parents[3] / "resources" / "benchmarks" / "faces.json"
HAAR = "Viola–Jones (OpenCV frontalface, 2001)"
CNN = "MTCNN (three CNNs, 2016)"


def load_figures(path: Path = FIGURES) -> dict | None:
    """The benchmark's last figures, or None when none are shipped (or they are unreadable)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def figures_html(figures: dict | None) -> str:
    """The benchmark's figures as a small table, with where they were measured."""
    if not figures:
        return ("No benchmark figures shipped: <code>python benchmarks/faces.py</code> "
                "measures them and writes them here.")
    rows = "".join(
        f"<tr><td>{name}</td><td align=right>{figures[f'{key}_recall']:.0%}</td>"
        f"<td align=right>{figures[f'{key}_false_per_image']:.2f}</td>"
        f"<td align=right>{figures[f'{key}_ms']:.0f}</td></tr>"
        for name, key in (("Haar cascade", "haar"), ("MTCNN", "cnn")))
    m = figures.get("machine") or {}
    where = f"{m.get('cpu', 'an unnamed CPU')}, {m.get('cores', '?')} cores"
    if figures.get("load_average") is not None:
        where += f" (load average {figures['load_average']:.1f})"
    return (f"<b>Benchmark</b> (benchmarks/faces.py): {figures.get('images', '?')} photos, "
            f"{figures.get('faces', '?')} faces pasted at known places "
            f"({figures.get('face_sides', '?')} px)<br>"
            "<table cellspacing=0 cellpadding=3><tr><th></th><th>recall</th>"
            f"<th>false boxes / photo</th><th>ms / photo</th></tr>{rows}</table>"
            f"measured {figures.get('measured', '')} on {where}")


def _side(title: str) -> tuple[QLabel, pg.GraphicsLayoutWidget, pg.ImageItem, pg.ViewBox]:
    label = QLabel(title)
    label.setWordWrap(True)
    view = pg.GraphicsLayoutWidget()
    view.setBackground(BACKGROUND)
    view.setMinimumSize(240, 240)
    box = view.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
    item = pg.ImageItem(axisOrder="row-major")
    box.addItem(item)
    return label, view, item, box


def _found(count: int, ms: float) -> str:
    return (f"<b>{count} face{'s' if count != 1 else ''}</b> in {ms:.0f} ms" if count
            else f"<b>no face found</b> ({ms:.0f} ms)")


class FacesCompare(QWidget):
    compared = Signal()         # both detectors' answers on screen (tests, screenshots)

    def __init__(self, parent=None, image: np.ndarray | None = None, caption: str = ""):
        super().__init__(parent)
        if image is None:
            from skimage import data

            image, caption = data.astronaut(), caption or "astronaut (scikit-image)"
        self.image, self.caption = np.asarray(image), caption or "image"
        self.haar = None                # HaarResult of the image shown
        self.cnn: dict | None = None    # cnn_faces.detect_faces of the image shown
        self._stale = True              # the image shown has not been compared yet
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cnn-faces")
        # The CNN's answer comes back on this thread; an older image's is dropped.
        self.answers = Answers(self)
        self._pending = None

        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.haar_title, haar_view, self.haar_item, self.haar_box = _side(HAAR)
        self.cnn_title, cnn_view, self.cnn_item, self.cnn_box = _side(CNN)
        self.figures = QLabel(figures_html(load_figures()))
        self.figures.setWordWrap(True)
        self.figures.setTextFormat(Qt.RichText)
        grid = QGridLayout()
        grid.addWidget(self.haar_title, 0, 0)
        grid.addWidget(self.cnn_title, 0, 1)
        grid.addWidget(haar_view, 1, 0)
        grid.addWidget(cnn_view, 1, 1)
        grid.setRowStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(grid, 1)
        layout.addWidget(self.figures)
        self._show_heading()

    # -- hooks (the Haar tab forwards its own) ------------------------------------
    def set_image(self, image: np.ndarray, caption: str = "") -> None:
        self.image, self.caption = np.asarray(image), caption or "the chosen image"
        self._stale = True
        self._show_heading()
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:        # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def busy(self) -> bool:
        return self.answers.busy()

    def close_panel(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)   # a detection ends alone

    # -- the two detectors ------------------------------------------------------
    def _show_heading(self) -> None:
        self.heading.setText(
            f"<b>{self.caption}</b>: the same photo through a boosted cascade of Haar "
            "features (left, red) and a cascade of three CNNs (right, blue: boxes; yellow: "
            "eyes, nose, mouth corners). Drop or open a photo to compare on it.")

    def refresh(self) -> None:
        """Haar now, on this thread; the CNN on the worker (its answer comes to _detected)."""
        self._stale = False
        self.cnn = None
        try:
            self.haar = detect_haar(self.image, "frontalface")
            self.haar_item.setImage(draw_boxes(self.image, self.haar.boxes))
            self.haar_title.setText(f"{HAAR}: {_found(len(self.haar.boxes), self.haar.ms)}")
        except StudioError as exc:
            self.haar = None
            self.haar_title.setText(f"{HAAR}: <span style='color:#e57373'>{exc}</span>")
        self.haar_box.autoRange(padding=0.01)
        self.cnn_item.setImage(_rgb(self.image))
        self.cnn_box.autoRange(padding=0.01)
        self.cnn_title.setText(f"{CNN}: detecting…" if cnn_faces.loaded() else
                               f"{CNN}: loading TensorFlow and the three networks…")
        if self._pending is not None:
            self._pending.cancel()      # an older image not started yet: not worth running
        image = self.image
        self._pending = self._pool.submit(cnn_faces.detect_faces, image)
        self.answers.watch("cnn", self._pending, lambda found: self._detected(image, found),
                           self._failed)

    def _failed(self, exc) -> None:
        self.cnn_title.setText(f"{CNN}: <span style='color:#e57373'>{exc}</span>")
        self.compared.emit()

    def _detected(self, image: np.ndarray, found: dict) -> None:
        self.cnn = found
        self.cnn_item.setImage(cnn_faces.draw(image, found))
        scores = ", ".join(f"{s:.2f}" for s in found["scores"][:4])
        extra = f" · scores {scores}{', …' if len(found['scores']) > 4 else ''}" \
            if len(found["scores"]) else ""
        self.cnn_title.setText(f"{CNN}: {_found(len(found['boxes']), found['ms'])}{extra}")
        self.compared.emit()


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    return image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
