"""Teachable-Machine-style capture: name the classes, hold a class's button to record the
camera's frames into ``<folder>/<class>/`` (numbered PNGs, C1's ``record_frames``), watch
the counts grow, press Train.

Frames are taken from the live session at RECORD_FPS while a button is held (only new
frames: a still camera gives no duplicates) and written on a worker thread, so holding the
button never stalls the view. The folder and class names are kept in the window's settings.
A class removed here is moved to ``<folder>/.removed/`` (the folder dataset skips hidden
folders): nothing the teacher recorded is deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
)

from cnnstudio.core.camera.capture import check_class_name, record_frames
from cnnstudio.core.errors import StudioError
from cnnstudio.gui.camera.capture_training import count_images
from cnnstudio.gui.model_access import Answers

RECORD_FPS = 5
DEFAULT_CLASSES = ("Class 1", "Class 2")


class ClassRow:
    """One class: its name (edit to rename), its count, its hold-to-record button, ✕."""

    def __init__(self, name: str, count: int):
        self.name = name
        self.count = count
        self.edit = QLineEdit(name)
        self.edit.setToolTip("The class name (also its folder's); edit to rename")
        self.count_label = QLabel()
        self.count_label.setMinimumWidth(70)
        self.button = QPushButton()
        self.button.setObjectName("primary")
        self.button.setToolTip(f"Hold to record frames into this class ({RECORD_FPS} a second)")
        self.remove = QToolButton()
        self.remove.setText("✕")
        self.remove.setToolTip("Remove this class (its frames move to .removed/)")
        self.set_count(count)

    def set_name(self, name: str) -> None:
        self.name = name
        self.edit.setText(name)
        self.button.setText(f"Hold to record  “{name}”")

    def set_count(self, count: int) -> None:
        self.count = count
        self.count_label.setText(f"{count} frame{'s' if count != 1 else ''}")
        self.button.setText(f"Hold to record  “{self.name}”")

    def widgets(self) -> tuple:
        return self.edit, self.count_label, self.button, self.remove


class CapturePanel(QGroupBox):
    counts_changed = Signal()       # a write landed, or classes/folder changed
    train_requested = Signal()
    message = Signal(str)           # one line for the tab's status line

    def __init__(self, settings=None, frames: Callable | None = None,
                 start_live: Callable | None = None, parent=None):
        super().__init__("Capture your own classes", parent)
        self.settings = settings
        self.frames = frames or (lambda: None)      # → (frame, id, t) or None
        self.start_live = start_live or (lambda: None)
        self.folder: Path | None = None
        self.rows: list[ClassRow] = []
        self.recording: str | None = None
        self.writes = 0                              # frames written this session
        self._last_id = -1
        self._pool: ThreadPoolExecutor | None = None
        self._tickets = 0
        self.answers = Answers(self)
        self._timer = QTimer(self)
        self._timer.setInterval(int(1000 / RECORD_FPS))
        self._timer.timeout.connect(self._tick)

        self.folder_label = QLabel(wordWrap=True)
        self.folder_label.setObjectName("muted")
        choose = QPushButton("Folder…")
        choose.setToolTip("Where the frames go: one sub-folder per class (a folder you "
                          "recorded into before brings its classes back)")
        choose.clicked.connect(self._ask_folder)
        top = QHBoxLayout()
        top.addWidget(self.folder_label, 1)
        top.addWidget(choose)
        self.grid = QGridLayout()
        self.grid.setColumnStretch(2, 1)
        self.new_name = QLineEdit()
        self.new_name.setPlaceholderText("new class name")
        self.new_name.returnPressed.connect(self._add_clicked)
        add = QPushButton("Add class")
        add.clicked.connect(self._add_clicked)
        adder = QHBoxLayout()
        adder.addWidget(self.new_name, 1)
        adder.addWidget(add)
        self.train_button = QPushButton("Train on these frames")
        self.train_button.setToolTip("Point the window's dataset at this folder and train: "
                                     "MobileNetV2 features when its weights are on this "
                                     "computer, else LeNet-5 from scratch")
        self.train_button.clicked.connect(self.train_requested)
        self.model_line = QLabel(wordWrap=True)
        self.model_line.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self.grid)
        layout.addLayout(adder)
        layout.addWidget(self.train_button)
        layout.addWidget(self.model_line)
        self._restore()

    # -- folder and classes --------------------------------------------------------------
    def _restore(self) -> None:
        saved = self.settings.value("camera/folder") if self.settings is not None else None
        folder = Path(str(saved)) if saved else Path.home() / "cnnstudio-captures"
        names = self.settings.value("camera/classes") if self.settings is not None else None
        self.set_folder(folder, list(names) if isinstance(names, list) and names else None)

    def _save(self) -> None:
        if self.settings is not None and self.folder is not None:
            self.settings.setValue("camera/folder", str(self.folder))
            self.settings.setValue("camera/classes", self.class_names())

    def _ask_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for the captured frames",
                                                str(self.folder or Path.home()))
        if path:
            self.set_folder(Path(path))

    def set_folder(self, folder, names: list[str] | None = None) -> None:
        """Record into ``folder``: its class sub-folders, then ``names``, are the classes
        (two new ones for an empty folder)."""
        self.stop_recording()
        self.folder = Path(folder).expanduser()
        found = sorted(p.name for p in self.folder.iterdir()
                       if p.is_dir() and not p.name.startswith(".")) \
            if self.folder.is_dir() else []
        wanted = found + [n for n in (names or []) if n not in found]
        self._set_rows(wanted or list(DEFAULT_CLASSES))
        self.folder_label.setText(f"Frames go to {self.folder}/<class>/")
        self._save()

    def class_names(self) -> list[str]:
        return [row.name for row in self.rows]

    def counts(self) -> dict[str, int]:
        return {row.name: row.count for row in self.rows}

    def _set_rows(self, names: list[str]) -> None:
        for row in self.rows:
            for widget in row.widgets():
                widget.deleteLater()
        self.rows = []
        for name in names:
            self._append_row(name)
        self.counts_changed.emit()

    def _append_row(self, name: str) -> None:
        row = ClassRow(name, count_images(self.folder, name) if self.folder else 0)
        row.set_name(name)
        index = len(self.rows)
        for column, widget in enumerate(row.widgets()):
            self.grid.addWidget(widget, index, column)
        row.edit.editingFinished.connect(lambda row=row: self.rename_class(row.name,
                                                                          row.edit.text()))
        row.button.pressed.connect(lambda row=row: self.start_recording(row.name))
        row.button.released.connect(self.stop_recording)
        row.remove.clicked.connect(lambda _=False, row=row: self.remove_class(row.name))
        self.rows.append(row)

    def _row(self, name: str) -> ClassRow | None:
        return next((row for row in self.rows if row.name == name), None)

    def _add_clicked(self) -> None:
        if self.add_class(self.new_name.text()):
            self.new_name.clear()

    def add_class(self, name: str) -> bool:
        try:
            name = check_class_name(name)
        except StudioError as exc:
            self.message.emit(str(exc))
            return False
        if self._row(name) is not None:
            self.message.emit(f"there is a class '{name}' already")
            return False
        self._append_row(name)
        self._save()
        self.counts_changed.emit()
        return True

    def rename_class(self, old: str, new: str) -> bool:
        row = self._row(old)
        if row is None or new.strip() == old:
            return False
        try:
            new = check_class_name(new)
            if self._row(new) is not None:
                raise StudioError(f"there is a class '{new}' already")
            if self.recording == old:
                raise StudioError("let go of the record button before renaming")
            source = self.folder / old if self.folder else None
            if source is not None and source.is_dir():
                if (self.folder / new).exists():
                    raise StudioError(f"{self.folder / new} exists already")
                source.rename(self.folder / new)
        except (StudioError, OSError) as exc:
            self.message.emit(f"not renamed: {exc}")
            row.set_name(old)
            return False
        row.set_name(new)
        self._save()
        self.counts_changed.emit()
        return True

    def remove_class(self, name: str) -> bool:
        row = self._row(name)
        if row is None:
            return False
        if self.recording == name:
            self.stop_recording()
        source = self.folder / name if self.folder else None
        if source is not None and source.is_dir():
            bin_dir = self.folder / ".removed"
            target = bin_dir / name
            if target.exists():
                target = bin_dir / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
            try:
                bin_dir.mkdir(exist_ok=True)
                source.rename(target)
            except OSError as exc:
                self.message.emit(f"class '{name}' not removed: {exc}")
                return False
            self.message.emit(f"removed class '{name}': its {row.count} frames are in "
                              f"{target} (training skips that folder)")
        self._set_rows([n for n in self.class_names() if n != name])
        self._save()
        return True

    # -- recording ------------------------------------------------------------------------
    def start_recording(self, name: str) -> None:
        if self.folder is None or self._row(name) is None:
            return
        self.start_live()                  # the camera starts if it was not running
        self.recording = name
        self._last_id = -1
        self._tick()
        self._timer.start()

    def stop_recording(self) -> None:
        """Let go: no more frames are taken; the few in flight are written (a short wait),
        and the writer thread ends with them."""
        self._timer.stop()
        self.recording = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _tick(self) -> None:
        got = self.frames()
        if self.recording is None or got is None or got[1] == self._last_id:
            return
        frame, self._last_id, _ = got
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="camera-record")
        folder, name = self.folder, self.recording
        self._tickets += 1
        future = self._pool.submit(record_frames, [frame], folder, name)
        self.answers.watch(f"write-{self._tickets}", future,
                           lambda paths, name=name: self._written(name, paths),
                           lambda error: self.message.emit(f"frame not saved: {error}"))

    def _written(self, name: str, paths: list) -> None:
        row = self._row(name)
        self.writes += len(paths)
        if row is not None:
            row.set_count(row.count + len(paths))
        self.counts_changed.emit()

    def close_panel(self) -> None:
        """Stop recording; the frames already taken are written and counted."""
        self.stop_recording()
        self.answers.flush()         # their counts, before the panel goes
