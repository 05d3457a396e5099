"""Views the panels of every family share: a labelled mosaic of tiles (pyqtgraph), an
image gallery of thumbnails, colour maps, and a combo box refilled without losing its choice.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

BACKGROUND = (38, 38, 42)          # gaps between tiles: dark, so tiles read as separate cells


def refill_combo(box, names: list[str]) -> None:
    """Offer ``names`` in a combo box, keeping the user's choice when it is still there
    (no change signal fires: the caller redraws once)."""
    if names == [box.itemText(i) for i in range(box.count())]:
        return
    current = box.currentText()
    box.blockSignals(True)
    box.clear()
    box.addItems(names)
    if current in names:
        box.setCurrentText(current)
    box.blockSignals(False)


def colour_table(name: str) -> np.ndarray:
    return pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False)


def colourise(image: np.ndarray, cmap: str = "viridis") -> np.ndarray:
    """0..1 floats (NaN = gap) → uint8 RGB, the gaps painted BACKGROUND. RGB input keeps colour."""
    image = np.asarray(image, dtype=np.float32)
    gap = np.isnan(image) if image.ndim == 2 else np.isnan(image).any(axis=2)
    values = np.clip(np.nan_to_num(image, nan=0.0), 0.0, 1.0)
    if image.ndim == 2:
        rgb = colour_table(cmap)[np.round(values * 255).astype(np.int32)]
    else:
        rgb = np.round(values[..., :3] * 255).astype(np.uint8)
    rgb = np.array(rgb, dtype=np.uint8)
    rgb[gap] = BACKGROUND
    return rgb


class TitledImageView(pg.GraphicsLayoutWidget):
    """A title, one zoomable image (row-major, y down) and a caption, on the dark ground."""

    def __init__(self, title: str = "", parent=None, min_side: int = 160):
        super().__init__(parent)
        self.setBackground(BACKGROUND)
        self.setMinimumSize(min_side, min_side)
        self.title = self.addLabel(title, row=0, col=0, size="10pt", color="#e8e8e8")
        self.view = self.addViewBox(row=1, col=0, lockAspect=True, invertY=True,
                                    enableMenu=False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image_item)
        self.caption = self.addLabel("", row=2, col=0, size="8pt", color="#a8a8a8")


class MosaicView(TitledImageView):
    """One titled image (a tile mosaic, a heat map, a photo), zoomable, tiles numbered."""
    tileClicked = Signal(int)

    def __init__(self, title: str = "", parent=None, min_side: int = 160):
        super().__init__(title, parent, min_side)
        self._labels: list[pg.TextItem] = []
        self._mosaic = None
        self.image = None               # the RGB array shown, for tests and screenshots
        self.image_item.mouseClickEvent = self._clicked

    def show_image(self, rgb: np.ndarray, title: str | None = None, caption: str | None = None,
                   keep_view: bool = False) -> bool:
        first = self.image is None or self.image.shape[:2] != rgb.shape[:2]
        self.image = rgb
        self.image_item.setImage(rgb, autoLevels=False, levels=(0, 255))
        if title is not None:
            self.title.setText(title)
        if caption is not None:
            self.caption.setText(caption)
        reset = first or not keep_view
        if reset:
            self.view.autoRange(padding=0.02)
        return reset

    def show_mosaic(self, mosaic, cmap: str = "viridis", title: str | None = None,
                    caption: str | None = None, labels: list[str] | None = None,
                    keep_view: bool = False) -> None:
        self._mosaic = mosaic
        reset = self.show_image(colourise(mosaic.image, cmap), title, caption, keep_view)
        self._place_labels(mosaic, labels or [])
        if labels and reset:   # room above the first row for its numbers
            h, w = mosaic.image.shape[:2]
            self.view.setRange(xRange=(-0.5, w), yRange=(-max(1.0, 0.8 * mosaic.gap) - 0.5, h),
                               padding=0.02)

    def _place_labels(self, mosaic, labels: list[str]) -> None:
        # Numbers only where they stay readable: a few dozen tiles, tiles not tiny.
        if len(labels) > 64 or min(mosaic.tile_shape) < 3:
            labels = []
        while len(self._labels) < len(labels):
            # A dark badge keeps the number readable on light and dark tiles alike.
            item = pg.TextItem(color=(255, 235, 130), anchor=(0, 1))
            font = QFont("Sans")
            font.setPixelSize(8)
            item.setFont(font)
            self.view.addItem(item)
            self._labels.append(item)
        for i, item in enumerate(self._labels):
            if i < len(labels):
                x, y = mosaic.tile_origin(i)
                item.setText(labels[i])
                item.setPos(x - 0.7, y + 0.15)     # in the gap just above the tile
                item.setVisible(True)
            else:
                item.setVisible(False)

    def _clicked(self, event) -> None:
        if self._mosaic is None or event.button() != Qt.LeftButton:
            return
        pos = event.pos()
        index = self._mosaic.tile_at(pos.x(), pos.y())
        if index is not None:
            self.tileClicked.emit(index)
            event.accept()


def to_pixmap(image: np.ndarray, side: int) -> QPixmap:
    """uint8 (H, W, 1|3) → a square pixmap, nearest-neighbour so pixels stay crisp."""
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    if image.ndim == 2 or image.shape[2] == 1:
        data = np.ascontiguousarray(image.reshape(h, w))
        qimage = QImage(data.data, w, h, w, QImage.Format_Grayscale8).copy()
    else:
        data = np.ascontiguousarray(image[:, :, :3])
        qimage = QImage(data.data, w, h, 3 * w, QImage.Format_RGB888).copy()
    return QPixmap.fromImage(qimage).scaled(side, side, Qt.KeepAspectRatio,
                                            Qt.FastTransformation)


class ImageGallery(QWidget):
    """A wrapping grid of thumbnails with captions; clicking one emits its index."""
    imageClicked = Signal(int)

    def __init__(self, side: int = 72, parent=None):
        super().__init__(parent)
        self.side = side
        self.header = QLabel("")
        self.header.setWordWrap(True)
        self.list = QListWidget()
        self.list.setViewMode(QListView.IconMode)
        self.list.setResizeMode(QListView.Adjust)
        self.list.setMovement(QListView.Static)
        self.list.setIconSize(pg.QtCore.QSize(side, side))
        self.list.setGridSize(pg.QtCore.QSize(side + 34, side + 38))
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(True)
        self.list.itemClicked.connect(lambda item: self.imageClicked.emit(item.data(Qt.UserRole)))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.list)
        self.indices: list[int] = []

    def set_images(self, images, captions: list[str], indices=None, header: str = "",
                   colours: list[str | None] | None = None, tooltips: list[str] | None = None):
        self.list.clear()
        self.indices = list(range(len(images))) if indices is None else [int(i) for i in indices]
        self.header.setText(header)
        for n, (image, caption) in enumerate(zip(images, captions, strict=True)):
            item = QListWidgetItem(QIcon(to_pixmap(image, self.side)), caption)
            item.setData(Qt.UserRole, self.indices[n])
            item.setTextAlignment(Qt.AlignHCenter)
            if colours and colours[n]:     # mid-tone colours read on light and dark themes
                item.setForeground(QColor(colours[n]))
            if tooltips:
                item.setToolTip(tooltips[n])
            self.list.addItem(item)

    def count(self) -> int:
        return self.list.count()

    def click(self, row: int) -> None:
        """Act as if thumbnail ``row`` was clicked (keyboard activation, tests)."""
        self.list.setCurrentRow(row)
        self.imageClicked.emit(self.indices[row])
