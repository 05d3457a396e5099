"""A caption, word by word: for each word its soft attention map and its hard cell.

    strip = WordStrip()
    strip.show_caption(image, ["a", "red", "circle"], alphas, opacity=0.6, hits={2: True})
    strip.tiles          → one WordTile per word (+ one for <end>), each with two pictures
    strip.wordSelected   → the index of a clicked word

Shared by the captions panel and the prediction dock's caption view.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from cnnstudio.core.families.attention import attention_maps as maps
from cnnstudio.gui.widgets.images import to_pixmap

TILE = 64


class WordTile(QFrame):
    clicked = Signal(int)

    def __init__(self, index: int, word: str, soft: np.ndarray, hard: np.ndarray,
                 hit: bool | None, side: int = TILE, parent=None):
        super().__init__(parent)
        self.index, self.word = index, word
        self.setFrameShape(QFrame.StyledPanel)
        self.setCursor(Qt.PointingHandCursor)
        mark = "" if hit is None else (" ✓" if hit else " ✗")
        self.label = QLabel(f"<b>{word}</b>{mark}")
        self.label.setAlignment(Qt.AlignCenter)
        if hit is not None:
            self.label.setToolTip("attention peak inside this shape's box" if hit
                                  else "attention peak outside this shape's box")
        self.soft, self.hard = QLabel(), QLabel()
        self.soft.setPixmap(to_pixmap(soft, side))
        self.hard.setPixmap(to_pixmap(hard, side))
        self.soft.setToolTip(f"soft attention while writing '{word}'")
        self.hard.setToolTip(f"hard attention: the single most attended cell for '{word}'")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        layout.addWidget(self.label)
        layout.addWidget(self.soft)
        layout.addWidget(self.hard)
        self.set_selected(False)

    def set_selected(self, on: bool) -> None:
        self.setStyleSheet("WordTile { border: 2px solid #4a90d9; }" if on else "")

    def mousePressEvent(self, event):      # noqa: N802 (Qt's name)
        if event.button() == Qt.LeftButton:
            self.clicked.emit(self.index)
        super().mousePressEvent(event)


class WordStrip(QScrollArea):
    wordSelected = Signal(int)

    def __init__(self, side: int = TILE, parent=None):
        super().__init__(parent)
        self.side = side
        self.tiles: list[WordTile] = []
        self.words: list[str] = []
        self.selected = -1
        self.host = QWidget()
        self.row = QHBoxLayout(self.host)
        self.row.setContentsMargins(2, 2, 2, 2)
        self.row.setAlignment(Qt.AlignLeft)
        self.setWidget(self.host)
        self.setWidgetResizable(True)
        self.setMinimumHeight(side * 2 + 56)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)

    def clear(self) -> None:
        for tile in self.tiles:
            tile.hide()
            tile.deleteLater()
        self.tiles, self.words, self.selected = [], [], -1

    def show_caption(self, image, words: list[str], alphas, opacity: float = 0.6,
                     hits: dict[int, bool] | None = None) -> None:
        """One tile per word and one for <end> (the map the model held when it stopped)."""
        self.clear()
        hits = hits or {}
        labels = [*words, "<end>"][:len(alphas)]
        scale = max(1, self.side // max(1, np.asarray(image).shape[0]))
        grid = np.asarray(alphas[0]).shape
        for i, word in enumerate(labels):
            soft = maps.soft_overlay(image, alphas[i], opacity, scale)
            hard = maps.hard_overlay(image, maps.peak_cell(alphas[i]), grid, scale)
            tile = WordTile(i, word, soft, hard, hits.get(i), self.side)
            tile.clicked.connect(self.select)
            self.row.addWidget(tile)
            self.tiles.append(tile)
        self.words = labels

    def select(self, index: int) -> None:
        if not 0 <= index < len(self.tiles):
            return
        for tile in self.tiles:
            tile.set_selected(tile.index == index)
        self.selected = index
        self.ensureWidgetVisible(self.tiles[index])
        self.wordSelected.emit(index)
