"""A widget that paints one numpy frame scaled to fit (aspect kept), with an optional
Grad-CAM heat map blended over it and a caption strip along its bottom edge.

The camera tab paints at its own timer: ``set_frame`` only stores the array and asks for
a repaint, so a camera faster than the screen costs one conversion per shown frame.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from cnnstudio.core.probes.gradcam import overlay
from cnnstudio.gui.widgets.images import to_qimage


class FrameView(QWidget):
    def __init__(self, placeholder: str, smooth: bool = True, parent=None):
        super().__init__(parent)
        self.placeholder = placeholder
        self.smooth = smooth                 # False: enlarged pixels stay square (28×28 inputs)
        self.frame: np.ndarray | None = None
        self.heatmap: np.ndarray | None = None
        self.show_heatmap = False
        self.alpha = 0.45
        self.caption = ""
        self._image = None                   # the QImage of the last painted composition
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setObjectName("imageWell")

    def set_frame(self, frame: np.ndarray | None, heatmap: np.ndarray | None = None) -> None:
        self.frame, self.heatmap = frame, heatmap
        self._image = None
        self.update()

    def set_overlay(self, on: bool) -> None:
        self.show_heatmap = bool(on)
        self._image = None
        self.update()

    def set_caption(self, text: str) -> None:
        self.caption = text
        self.update()

    def composed(self) -> np.ndarray | None:
        """The frame as painted: blended with the heat map while the overlay is on."""
        if self.frame is None:
            return None
        if self.show_heatmap and self.heatmap is not None:
            return overlay(self.frame, self.heatmap, self.alpha)
        return self.frame

    def target_rect(self) -> QRect:
        """Where the frame lands: the largest rectangle of its aspect inside the widget."""
        if self.frame is None:
            return QRect()
        h, w = self.frame.shape[:2]
        scale = min(self.width() / w, self.height() / h)
        tw, th = max(1, int(w * scale)), max(1, int(h * scale))
        return QRect((self.width() - tw) // 2, (self.height() - th) // 2, tw, th)

    def paintEvent(self, event):            # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#101010"))
        if self.frame is None:
            painter.setPen(QColor("#bdbdbd"))
            painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                             Qt.AlignCenter | Qt.TextWordWrap, self.placeholder)
            return
        if self._image is None:
            self._image = to_qimage(self.composed())
        painter.setRenderHint(QPainter.SmoothPixmapTransform, self.smooth)
        target = self.target_rect()
        painter.drawImage(target, self._image)
        if self.caption:
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.15)
            font.setBold(True)
            painter.setFont(font)
            band = max(22, painter.fontMetrics().height() + 8)
            strip = QRectF(target.left(), target.bottom() + 1 - band, target.width(), band)
            painter.fillRect(strip, QColor(0, 0, 0, 150))
            painter.setPen(QColor("#ffffff"))
            painter.drawText(strip.adjusted(8, 0, -8, 0), Qt.AlignVCenter | Qt.AlignLeft,
                             self.caption)
