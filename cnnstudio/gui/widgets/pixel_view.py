"""The book's chapter 2 figure: an image enlarged with each pixel's value written on it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)


class PixelCanvas(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.image = np.zeros((1, 1, 1), np.uint8)
        self.channel = 0            # index, or -1 for the colour image with all values
        self.setMinimumSize(360, 360)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def set_image(self, image: np.ndarray) -> None:
        self.image = image if image.ndim == 3 else image[:, :, None]
        self.channel = min(self.channel, self.image.shape[2] - 1)
        self.update()

    def values(self) -> np.ndarray:
        """The numbers written on the cells (H, W)."""
        return self.image[:, :, max(self.channel, 0)]

    def _picture(self) -> QImage:
        """The channel shown (or the colour image) as an RGB QImage, one texel a pixel."""
        if self.image.shape[2] == 3 and self.channel < 0:
            rgb = self.image
        elif self.image.shape[2] == 3:
            rgb = np.zeros_like(self.image)
            rgb[..., self.channel] = self.image[..., self.channel]
        else:
            rgb = np.repeat(self.image[..., :1], 3, axis=2)
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        h, w = rgb.shape[:2]
        return QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()

    def paintEvent(self, event):
        h, w = self.image.shape[:2]
        # Whole-pixel cells: fractional ones leave hairline seams between them.
        cell = max(1, int(min(self.width() / w, self.height() / h)))
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        painter.translate((self.width() - cell * w) // 2, (self.height() - cell * h) // 2)
        font = QFont(self.font())
        font.setPixelSize(max(6, int(cell * 0.34)))
        painter.setFont(font)
        values = self.values()
        if cell < 11:
            # Too small to write numbers on: draw the picture itself, one block per pixel
            # (a 512-pixel photo is 262,144 cells, far too many to fill one by one).
            painter.drawImage(QRectF(0, 0, cell * w, cell * h), self._picture())
            painter.end()
            return
        for y in range(h):
            for x in range(w):
                if self.image.shape[2] == 3 and self.channel < 0:
                    r, g, b = (int(v) for v in self.image[y, x])
                    colour, level = QColor(r, g, b), (r + g + b) / 3
                else:
                    v = int(values[y, x])
                    rgb = [0, 0, 0]
                    if self.image.shape[2] == 3:
                        rgb[self.channel] = v
                    else:
                        rgb = [v, v, v]
                    colour, level = QColor(*rgb), v
                rect = QRectF(x * cell, y * cell, cell, cell)
                painter.fillRect(rect, colour)
                painter.setPen(QColor("#000000") if level > 110 else QColor("#ffffff"))
                painter.drawText(rect, Qt.AlignCenter, str(int(values[y, x])))
        painter.end()


class PixelViewDialog(QDialog):
    """Non-modal: several pixel views may stay open beside the window."""

    def __init__(self, image: np.ndarray, caption: str, on_predict=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Pixel values — class {caption}")
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.canvas = PixelCanvas()
        self.canvas.set_image(image)
        h, w, c = self.canvas.image.shape
        info = QLabel(f"{w}×{h} pixels, {c} channel{'s' if c > 1 else ''}, values 0–255 "
                      "(0 = black, 255 = full intensity)")
        self.channels = QComboBox()
        self.channels.setToolTip("Which colour channel's values to write on the pixels.")
        if c == 3:
            self.channels.addItems(["Red", "Green", "Blue"])
            self.channels.currentIndexChanged.connect(self._channel)
        else:
            self.channels.addItem("Grey")
            self.channels.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(info, 1)
        row.addWidget(QLabel("Channel:"))
        row.addWidget(self.channels)
        if on_predict is not None:
            predict = QPushButton("Predict this image")
            predict.setToolTip("Send this sample to the Prediction panel.")
            predict.clicked.connect(lambda: on_predict(image, caption))
            row.addWidget(predict)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.canvas, 1)
        side = max(360, min(720, 26 * max(h, w)))
        self.resize(side, side + 40)

    def _channel(self, index: int) -> None:
        self.canvas.channel = index
        self.canvas.update()
