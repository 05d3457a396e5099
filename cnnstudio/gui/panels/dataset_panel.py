"""Dataset panel: pick a registered dataset or open a folder; see shapes, classes, samples."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.config import DatasetConfig
from cnnstudio.core.datasets import DATASETS, load_dataset
from cnnstudio.core.training.events import Progress
from cnnstudio.gui.downloads import is_cached
from cnnstudio.gui.widgets.images import ImageLabel
from cnnstudio.gui.widgets.options_form import OptionsForm

PER_CLASS = 6
THUMB = 40


class DatasetPanel(QWidget):
    changed = Signal()                  # the DatasetConfig (or what we know of it) changed
    sample_clicked = Signal(object, str)
    message = Signal(str)               # for the status bar
    _progress = Signal()                # from the background thread; the event waits in
                                        # ``_last_progress`` (no objects cross threads)

    def __init__(self, background, parent=None):
        super().__init__(parent)
        self.background = background
        self.dataset = None             # the loaded Dataset matching the pickers, if any
        self.folder: str | None = None
        self._cache: dict[str, object] = {}
        self.combo = QComboBox()
        self.combo.setToolTip("Which images to train on; the offline ones need no download.")
        for source in DATASETS:
            if source.id != "folder":
                self.combo.addItem(source.name, source.id)
        self.open_button = QPushButton("Open folder…")
        self.open_button.setToolTip("Use your own images: a folder with one sub-folder per class.")
        self.open_button.clicked.connect(self._ask_folder)
        top = QHBoxLayout()
        top.addWidget(self.combo, 1)
        top.addWidget(self.open_button)
        self.options = OptionsForm()
        self.description = QLabel(wordWrap=True)
        self.description.setObjectName("muted")
        self.info = QLabel(wordWrap=True)
        self.info.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error = QLabel(wordWrap=True)
        self.error.setObjectName("error")
        self.error.hide()
        self.load_button = QPushButton("Download and load")
        self.load_button.setToolTip("Fetch this dataset now (it is kept in the Keras cache).")
        self.load_button.clicked.connect(lambda: self.reload(force=True))
        self.load_button.hide()
        self.bar = QProgressBar()
        self.bar.setFormat("%p%")
        self.bar.hide()
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(2)
        self.grid.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        scroll.setMinimumHeight(180)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.description)
        layout.addWidget(self.options)
        layout.addWidget(self.info)
        layout.addWidget(self.error)
        layout.addWidget(self.load_button)
        layout.addWidget(self.bar)
        layout.addWidget(QLabel("Samples (click one to see its pixel values):"))
        layout.addWidget(scroll, 1)
        self.combo.currentIndexChanged.connect(self._source_changed)
        self.options.changed.connect(lambda: self.reload())
        self._progress.connect(self._on_progress)
        self._source_changed()

    # -- the config --------------------------------------------------------
    @property
    def source_id(self) -> str:
        return self.combo.currentData()

    def dataset_config(self) -> DatasetConfig:
        options = self.options.values()
        if self.source_id == "folder":
            options["path"] = self.folder
        return DatasetConfig(self.source_id, options)

    def set_config(self, config: DatasetConfig) -> None:
        if config.id == "folder":
            self.open_folder(config.options.get("path", ""), config.options)
            return
        index = self.combo.findData(config.id)
        if index < 0:
            self.show_error(DATASETS.unknown_message(config.id))
            return
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        self._build_options()
        self.options.set_values(config.options)     # emits changed → reload

    def shape_and_classes(self) -> tuple[tuple | None, int | None]:
        """What the architecture summary needs, known without loading when possible."""
        if self.dataset is not None:
            return tuple(self.dataset.input_shape), self.dataset.num_classes
        source = DATASETS.get(self.source_id)
        try:
            shape = source.shape_for(self.options.values())
        except (TypeError, ValueError):
            shape = None
        return shape, len(source.class_names) if source.class_names else None

    # -- folders -----------------------------------------------------------
    def _ask_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open an image folder (one sub-folder per class)")
        if path:
            self.open_folder(path)

    def open_folder(self, path: str, options: dict | None = None) -> None:
        self.folder = str(Path(path).expanduser())
        index = self.combo.findData("folder")
        label = f"Folder: {Path(self.folder).name}"
        self.combo.blockSignals(True)
        if index < 0:
            self.combo.addItem(label, "folder")
            index = self.combo.count() - 1
        self.combo.setItemText(index, label)
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        self._build_options()
        if options:
            self.options.set_values({k: v for k, v in options.items() if k != "path"})
        else:
            self.reload()

    # -- loading -----------------------------------------------------------
    def _source_changed(self) -> None:
        self._build_options()
        self.reload()

    def _build_options(self) -> None:
        source = DATASETS.get(self.source_id)
        self.options.blockSignals(True)
        self.options.build({}, source.options_help, optional=True)
        self.options.blockSignals(False)
        self.description.setText(source.description if self.source_id != "folder"
                                 else f"Your images in {self.folder}")

    def reload(self, force: bool = False) -> None:
        config = self.dataset_config()
        key = f"{config.id}:{sorted(config.options.items())}"
        self.dataset = None
        self.error.hide()
        self._clear_grid()
        source = DATASETS.get(config.id)
        if key in self._cache:
            self._loaded(key, self._cache[key])
            return
        if source.needs_download and not is_cached(config.id) and not force:
            self.info.setText(f"<b>{source.name}</b> is not on this computer yet. It is "
                              "downloaded once, when you press the button below or Train.")
            self.load_button.show()
            self.changed.emit()
            return
        self.load_button.hide()
        self.info.setText("Loading…")
        self.changed.emit()
        self.background.submit(lambda: load_dataset(config, self._report),
                               lambda data: self._loaded(key, data), self._failed, key="dataset")

    def _loaded(self, key: str, dataset) -> None:
        self._cache[key] = dataset
        self.dataset = dataset
        self.bar.hide()
        self.load_button.hide()
        h, w, c = dataset.input_shape
        counts = dataset.counts("train")
        classes = ", ".join(f"{n} ({k:,})" for n, k in zip(dataset.class_names, counts, strict=False))
        self.info.setText(
            f"<b>{dataset.name}</b><br>Images: {w}×{h} pixels, {c} channel{'s' if c > 1 else ''}"
            f" ({'colour' if c == 3 else 'greyscale'})<br>"
            f"Train {len(dataset.train):,} · test {len(dataset.test):,} images<br>"
            f"{dataset.num_classes} classes (train count): {classes}")
        self._fill_grid(dataset)
        if dataset.skipped:
            self.show_error(f"{len(dataset.skipped)} unreadable file(s) skipped, e.g. "
                            f"{dataset.skipped[0][1]}")
        self.changed.emit()

    def _failed(self, reason: str) -> None:
        self.bar.hide()
        self.info.setText("")
        self.show_error(reason)
        self.changed.emit()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.message.emit(text)

    def _report(self, event) -> None:       # background thread
        self._last_progress = event
        self._progress.emit()

    def _on_progress(self) -> None:
        event = getattr(self, "_last_progress", None)
        if isinstance(event, Progress) and event.total:
            self.bar.show()
            self.bar.setMaximum(1000)
            self.bar.setValue(int(1000 * event.done / event.total))
            self.bar.setFormat(f"{event.message or event.stage} %p%")

    # -- the sample grid ---------------------------------------------------
    def _clear_grid(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()

    def _fill_grid(self, dataset) -> None:
        x, y = dataset.preview(per_class=PER_CLASS)
        column = {}
        for row, name in enumerate(dataset.class_names[:40]):
            label = QLabel(name)
            label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            label.setMaximumWidth(90)
            self.grid.addWidget(label, row, 0)
        for image, label_id in zip(x, y, strict=False):
            if label_id >= 40:
                continue
            col = column.get(label_id, 0)
            column[label_id] = col + 1
            thumb = ImageLabel(image, dataset.class_names[label_id], THUMB)
            thumb.clicked.connect(self.sample_clicked)
            self.grid.addWidget(thumb, int(label_id), col + 1)

    def thumbnails(self) -> list[ImageLabel]:
        return self.grid_host.findChildren(ImageLabel)
