"""Status-bar badge: the GPU in use and its memory, or a visible "CPU only" warning."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from cnnstudio.gui.theme import LIGHT, Theme


class DeviceIndicator(QLabel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.theme = LIGHT
        self.gpus: list[str] = []
        self.state = "loading"
        self.set_loading()

    def set_loading(self) -> None:
        self.state = "loading"
        self.setText("  Device: checking…  ")
        self.setToolTip("TensorFlow is loading; the devices are known once it is ready.")
        self._style(self.theme.muted)

    def set_gpus(self, gpus: list[str], memory_mb: float | None = None) -> None:
        self.gpus = list(gpus)
        if not gpus:
            from cnnstudio.core.training.devices import CPU_ONLY

            self.state = "cpu"
            self.setText("  ⚠ CPU only  ")
            self.setToolTip(CPU_ONLY)
            self._style(self.theme.warning, bold=True)
            return
        self.state = "gpu"
        memory = f" · {memory_mb:,.0f} MB in use" if memory_mb is not None else ""
        extra = f" (+{len(gpus) - 1} more)" if len(gpus) > 1 else ""
        self.setText(f"  GPU: {gpus[0]}{extra}{memory}  ")
        self.setToolTip("Training runs on: " + ", ".join(gpus))
        self._style(self.theme.ok, bold=True)

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        if self.state == "loading":
            self.set_loading()
        else:
            self.set_gpus(self.gpus)

    def _style(self, colour: str, bold: bool = False) -> None:
        weight = "font-weight: bold;" if bold else ""
        self.setStyleSheet(f"color: {colour}; border: 1px solid {colour}; border-radius: 3px;"
                           f" {weight}")
