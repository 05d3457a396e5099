"""numpy uint8 images (H, W, 1|3) as Qt pixmaps, enlarged without smoothing so pixels stay visible."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel


def to_qimage(image: np.ndarray) -> QImage:
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    if image.ndim == 2 or image.shape[2] == 1:
        data = np.ascontiguousarray(image.reshape(height, width))
        qimage = QImage(data.data, width, height, width, QImage.Format_Grayscale8)
    else:
        data = np.ascontiguousarray(image[:, :, :3])
        qimage = QImage(data.data, width, height, 3 * width, QImage.Format_RGB888)
    return qimage.copy()        # own the pixels: ``data`` dies with this function


def to_pixmap(image: np.ndarray, side: int) -> QPixmap:
    """Scale to fit ``side``×``side``, nearest-neighbour (a 28×28 digit stays crisp)."""
    return QPixmap.fromImage(to_qimage(image)).scaled(
        side, side, Qt.KeepAspectRatio, Qt.FastTransformation)


class ImageLabel(QLabel):
    """A thumbnail that remembers its array and reports clicks."""
    clicked = Signal(object, str)       # image, caption

    def __init__(self, image: np.ndarray, caption: str, side: int, parent=None):
        super().__init__(parent)
        self.image, self.caption = image, caption
        self.setPixmap(to_pixmap(image, side))
        self.setFixedSize(side + 2, side + 2)
        self.setAlignment(Qt.AlignCenter)
        self.setCursor(Qt.PointingHandCursor)
        self.setToolTip(f"class {caption} — click to see its pixel values")

    def mousePressEvent(self, event):
        if event.button() == Qt.LeftButton:
            self.clicked.emit(self.image, self.caption)
        super().mousePressEvent(event)
