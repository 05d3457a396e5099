"""Dataset panel: pick a registered dataset or open a folder; see shapes, classes, samples.

Under the summary, a bar per class shows how many training images each has, with
chapter 3's warning when the classes are skewed. A folder preset without a path
(the book's Dogs-vs-Cats and BelgiumTS lessons) asks for the folder instead of failing.
"""

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
from cnnstudio.core.datasets.folder import class_balance
from cnnstudio.core.training.events import Progress
from cnnstudio.gui.downloads import is_cached
from cnnstudio.gui.widgets.class_balance import ClassBalanceView
from cnnstudio.gui.widgets.images import ImageLabel
from cnnstudio.gui.widgets.options_form import OptionsForm

PER_CLASS = 6
THUMB = 40
CHOOSE_FOLDER = "Choose the folder for this lesson with 'Open folder…'."
FOLDER_HELP = ("This lesson trains on your own copy of the book's images: pick the folder "
               "with one sub-folder per class, such as Kaggle's Dogs-vs-Cats train folder "
               "(cat/, dog/) or the BelgiumTS folder that holds Training/ and Testing/.")


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
        self._samples = []              # the grid's images, for the augmentation preview
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
        self.balance_title = QLabel("Training images per class:")
        self.balance = ClassBalanceView()
        self.balance.setToolTip("How many training images each class has; very uneven "
                                "classes make accuracy misleading.")
        self.balance_warning = QLabel(wordWrap=True)
        self.balance_warning.setStyleSheet("color: #b06000;")
        for widget in (self.balance_title, self.balance, self.balance_warning):
            widget.hide()
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
        layout.addWidget(self.balance_title)
        layout.addWidget(self.balance)
        layout.addWidget(self.balance_warning)
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
            options["path"] = self.folder or ""
        return DatasetConfig(self.source_id, options)

    def set_config(self, config: DatasetConfig) -> None:
        if config.id == "folder":
            if config.options.get("path"):
                self.open_folder(config.options["path"], config.options)
            else:
                self.ask_for_folder(config.options)
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

    def ask_for_folder(self, options: dict | None = None) -> None:
        """A folder lesson without a path: keep its options, say what to do, load nothing."""
        self._folder_options = {k: v for k, v in (options or {}).items() if k != "path"}
        self.folder = None
        self._select_folder_item("Folder: choose one…")
        self.options.blockSignals(True)
        self.options.set_values(self._folder_options)
        self.options.blockSignals(False)
        self.reload()

    def open_folder(self, path: str, options: dict | None = None) -> None:
        if options is None and self.folder is None and self.source_id == "folder":
            options = getattr(self, "_folder_options", None)    # the lesson's image size
        self.folder = str(Path(path).expanduser())
        self._select_folder_item(f"Folder: {Path(self.folder).name}")
        if options:
            self.options.set_values({k: v for k, v in options.items() if k != "path"})
        else:
            self.reload()

    def _select_folder_item(self, label: str) -> None:
        index = self.combo.findData("folder")
        self.combo.blockSignals(True)
        if index < 0:
            self.combo.addItem(label, "folder")
            index = self.combo.count() - 1
        self.combo.setItemText(index, label)
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        self._build_options()

    # -- loading -----------------------------------------------------------
    def _source_changed(self) -> None:
        self._build_options()
        self.reload()

    def _build_options(self) -> None:
        source = DATASETS.get(self.source_id)
        self.options.blockSignals(True)
        self.options.build(source.specs)
        self.options.blockSignals(False)
        self.description.setText(source.description if self.source_id != "folder"
                                 else f"Your images in {self.folder}" if self.folder
                                 else source.description)

    def reload(self, force: bool = False) -> None:
        config = self.dataset_config()
        key = f"{config.id}:{sorted(config.options.items())}"
        self.dataset = None
        self.error.hide()
        self._clear_grid()
        self._show_balance(None)
        self._set_button_primary(False)
        source = DATASETS.get(config.id)
        if config.id == "folder" and not self.folder:
            self.load_button.hide()
            self.bar.hide()
            self.info.setText(FOLDER_HELP)
            self._set_button_primary(True)
            # Shown as the error so the window lists it and keeps Train disabled.
            self.show_error(CHOOSE_FOLDER)
            self.changed.emit()
            return
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

    def forget_folder(self, path: str) -> None:
        """Read this image folder again next time: files were added since (camera capture)."""
        for key in [k for k in self._cache if k.startswith("folder:") and str(path) in k]:
            del self._cache[key]

    def _loaded(self, key: str, dataset) -> None:
        self._cache[key] = dataset
        self.dataset = dataset
        self.bar.hide()
        self.load_button.hide()
        h, w, c = dataset.input_shape
        self.info.setText(
            f"<b>{dataset.name}</b><br>Images: {w}×{h} pixels, {c} channel{'s' if c > 1 else ''}"
            f" ({'colour' if c == 3 else 'greyscale'})<br>"
            f"Train {len(dataset.train):,} · test {len(dataset.test):,} images · "
            f"{dataset.num_classes} classes")
        self._show_balance(dataset)
        self._fill_grid(dataset)
        if dataset.skipped:
            self.show_error(f"{len(dataset.skipped)} unreadable file(s) skipped, e.g. "
                            f"{dataset.skipped[0][1]}")
        self.changed.emit()

    def _set_button_primary(self, primary: bool) -> None:
        """Make 'Open folder…' the obvious next step while a lesson waits for its folder."""
        name = "primary" if primary else ""
        if self.open_button.objectName() != name:
            self.open_button.setObjectName(name)
            self.open_button.style().unpolish(self.open_button)
            self.open_button.style().polish(self.open_button)

    def _show_balance(self, dataset) -> None:
        """The bar per class and, when skewed, chapter 3's warning (``class_balance``)."""
        widgets = (self.balance_title, self.balance, self.balance_warning)
        if dataset is None or not dataset.num_classes:
            for widget in widgets:
                widget.hide()
            return
        names, counts = list(dataset.class_names), dataset.counts("train")
        balance = class_balance(counts, names)
        skewed = {names.index(balance["smallest"]), names.index(balance["largest"])} \
            if balance["warning"] else set()
        self.balance.set_counts(names, counts, highlight=skewed)
        warning = balance["warning"]     # first letter only: class names keep their case
        self.balance_warning.setText("⚠ " + warning[:1].upper() + warning[1:] if warning else "")
        self.balance_title.show()
        self.balance.show()
        self.balance_warning.setVisible(bool(balance["warning"]))

    def sample_image(self, index: int = 0):
        """A training sample from the grid (uint8 H×W×C), or None before a dataset loads."""
        samples = self._samples if self.dataset is not None else []
        return samples[index % len(samples)] if len(samples) else None

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
                item.widget().hide()
                item.widget().deleteLater()

    def _fill_grid(self, dataset) -> None:
        x, y = dataset.preview(per_class=PER_CLASS)
        self._samples = x
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
