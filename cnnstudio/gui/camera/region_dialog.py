"""Choosing the screen rectangle the camera tab watches: four numbers, or a rubber band
dragged over a still picture of the whole screen."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPainter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QRubberBand,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.gui.camera.screen_source import screen_geometry

DEFAULT = QRect(100, 100, 480, 360)


class RubberBandOverlay(QWidget):
    """A frameless full-screen still of the screen; drag a rectangle, Esc cancels."""
    picked = Signal(QRect)

    def __init__(self):
        super().__init__(None, Qt.FramelessWindowHint | Qt.WindowStaysOnTopHint | Qt.Tool)
        self.desktop = screen_geometry()
        screen = QGuiApplication.primaryScreen()
        self.still = screen.grabWindow(0, self.desktop.x(), self.desktop.y(),
                                       self.desktop.width(), self.desktop.height())
        self.setGeometry(self.desktop)
        self.setCursor(Qt.CrossCursor)
        self.band = QRubberBand(QRubberBand.Rectangle, self)
        self.origin = QPoint()

    def paintEvent(self, event):             # noqa: N802 (Qt's names)
        painter = QPainter(self)
        painter.drawPixmap(self.rect(), self.still)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 90))
        painter.setPen(QColor("#ffffff"))
        painter.drawText(self.rect().adjusted(0, 24, 0, 0), Qt.AlignHCenter | Qt.AlignTop,
                         "Drag a rectangle over what the model should watch · Esc cancels")

    def mousePressEvent(self, event):        # noqa: N802
        self.origin = event.position().toPoint()
        self.band.setGeometry(QRect(self.origin, QSize()))
        self.band.show()

    def mouseMoveEvent(self, event):         # noqa: N802
        self.band.setGeometry(QRect(self.origin, event.position().toPoint()).normalized())

    def mouseReleaseEvent(self, event):      # noqa: N802
        rect = QRect(self.origin, event.position().toPoint()).normalized()
        self.close()
        if rect.width() >= 8 and rect.height() >= 8:
            self.picked.emit(rect.translated(self.desktop.topLeft()))

    def keyPressEvent(self, event):          # noqa: N802
        if event.key() == Qt.Key_Escape:
            self.close()


class RegionDialog(QDialog):
    def __init__(self, parent=None, rect: QRect = DEFAULT):
        super().__init__(parent)
        self.setWindowTitle("Screen region")
        desktop = screen_geometry()
        self.spins = {}
        form = QFormLayout()
        for name, value, low, high in (
                ("x", rect.x(), desktop.left(), desktop.right()),
                ("y", rect.y(), desktop.top(), desktop.bottom()),
                ("width", rect.width(), 8, max(8, desktop.width())),
                ("height", rect.height(), 8, max(8, desktop.height()))):
            spin = QSpinBox()
            spin.setRange(low, high)
            spin.setValue(max(low, min(high, value)))
            spin.setSuffix(" px")
            self.spins[name] = spin
            form.addRow(name, spin)
        drag = QPushButton("Drag on the screen…")
        drag.setToolTip("Drag a rectangle over a still picture of the whole screen")
        drag.clicked.connect(self._drag)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"The part of the screen to watch (the desktop is "
                                f"{desktop.width()}×{desktop.height()} pixels):", wordWrap=True))
        layout.addLayout(form)
        layout.addWidget(drag)
        layout.addWidget(buttons)
        self._overlay: RubberBandOverlay | None = None

    def region(self) -> QRect:
        s = self.spins
        return QRect(s["x"].value(), s["y"].value(), s["width"].value(), s["height"].value())

    def set_region(self, rect: QRect) -> None:
        for name, value in zip(("x", "y", "width", "height"),
                               (rect.x(), rect.y(), rect.width(), rect.height()), strict=True):
            self.spins[name].setValue(value)

    def _drag(self) -> None:
        # The dialog stays open under the overlay: hiding a dialog ends its exec().
        self._overlay = RubberBandOverlay()
        self._overlay.picked.connect(self.set_region)
        self._overlay.setAttribute(Qt.WA_DeleteOnClose)
        self._overlay.showFullScreen()
