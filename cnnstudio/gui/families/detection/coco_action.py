"""“Find objects with the COCO Mask R-CNN” on any image: the menu action and its window
(with chapter 7's side by side: Haar faces beside Mask R-CNN's persons, each timed).

``CocoFinder`` is the one way the GUI uses the pretrained model (menu, prediction dock):
it asks before downloading (the archive is large), runs download, load and detection on
its own worker thread with progress in a status line, and hands the answer back on the
GUI thread. Offline, the downloader's message names the file, its URL and its place;
``DownloadNote`` shows it word-wrapped to any width, with a Copy URL button.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.detection import coco_pretrained as zoo
from cnnstudio.core.families.detection import face_vs_person
from cnnstudio.core.imaging import read_image
from cnnstudio.gui.families.detection.instances_view import InstancesView
from cnnstudio.gui.model_access import Answers

ACTION_TEXT = "Find objects with the COCO Mask R-CNN…"
DOWNLOAD_FAILED = "⚠ The COCO Mask R-CNN could not be downloaded:"


def _count(instances, noun: str) -> str:
    return f"{len(instances)} {noun}{'' if len(instances) == 1 else 's'}"


def ask_download(parent) -> bool:
    """Ask before the first use downloads the model (tests replace this)."""
    where = zoo.archive_path()
    answer = QMessageBox.question(
        parent, "Download the COCO Mask R-CNN?",
        f"Finding objects needs the pretrained {zoo.TITLE}, which is not on this computer "
        f"yet.\n\nDownload {zoo.ARCHIVE} ({zoo.SIZE_TEXT}) from\n{zoo.URL}\ninto\n{where}?\n\n"
        "It is downloaded once; later uses work offline.")
    return answer == QMessageBox.Yes


def breakable(text: str) -> str:
    """``text`` with a zero-width space after each / _ - . inside long words (URLs, paths):
    a word-wrapped label can then break them, instead of widening its dock or being cut."""
    def soften(match):
        return re.sub(r"([/\\_.\-])(?=\S)", "\\1\u200b", match.group())
    return re.sub(r"\S{25,}", soften, text)


class DownloadNote(QWidget):
    """The offline message (the file, its URL, where to place it), word-wrapped to any
    width, with a Copy URL button; hidden until a download fails."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.message = ""
        self.label = QLabel(wordWrap=True)
        self.label.setTextFormat(Qt.PlainText)
        self.label.setObjectName("error")
        self.copy_button = QPushButton("Copy URL")
        self.copy_button.setToolTip(f"Put the model's download address on the clipboard:\n"
                                    f"{zoo.URL}")
        self.copy_button.clicked.connect(self.copy_url)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.copy_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addLayout(row)
        self.hide()

    def show_failure(self, text: str) -> bool:
        """Show a failed download (its message names the URL) and say True; anything else
        hides the note and says False."""
        if zoo.URL not in text:
            self.hide()
            return False
        self.message = text
        self.label.setText(breakable(text))
        self.show()
        return True

    def copy_url(self) -> None:
        QGuiApplication.clipboard().setText(zoo.URL)


class CocoFinder(QObject):
    """Runs the pretrained model off the GUI thread; one request at a time."""
    progressed = Signal(str)
    found = Signal(object, object, str)      # the photo as detected, its Instances, its name
    failed = Signal(str)

    ask = staticmethod(ask_download)

    def __init__(self, parent=None, min_score: float = zoo.DEFAULT_MIN_SCORE):
        super().__init__(parent)
        self.min_score = min_score
        self.answers = Answers(self)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coco-maskrcnn")
        self._lock = threading.Lock()
        self._progress = ""
        self._poll = QTimer(self)
        self._poll.setInterval(200)
        self._poll.timeout.connect(self._show_progress)

    def busy(self) -> bool:
        return self.answers.busy()

    def find(self, image: np.ndarray, name: str, parent=None) -> bool:
        """Start finding objects in ``image``; False when the user declined the download."""
        if not zoo.is_cached() and not self.ask(parent):
            self.failed.emit("Not downloaded: the COCO Mask R-CNN is needed to find objects.")
            return False
        image = np.asarray(image)
        self._set_progress(f"Finding objects in {name} (loading the model takes a while the "
                           "first time)…")
        self._poll.start()
        started = time.perf_counter()

        def work():
            photo, instances = zoo.detect(image, self._on_progress, self.min_score)
            instances.extra["total_ms"] = round((time.perf_counter() - started) * 1000, 1)
            return photo, instances

        self.answers.watch("coco", self._pool.submit(work),
                           lambda out: self._done(out, name), self._error)
        return True

    def close(self) -> None:
        self._poll.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- plumbing -----------------------------------------------------------------------------
    def _on_progress(self, event) -> None:      # worker thread
        total = f" of {event.total:.0f}" if getattr(event, "total", None) else ""
        with self._lock:            # the GUI thread's timer shows it (no signal from here)
            self._progress = f"{event.message}: {event.done:.0f}{total}"

    def _set_progress(self, text: str) -> None:
        with self._lock:
            self._progress = text
        self._show_progress()

    def _show_progress(self) -> None:
        with self._lock:
            text = self._progress
        self.progressed.emit(text)

    def _done(self, out, name: str) -> None:
        self._poll.stop()
        photo, instances = out
        self.found.emit(photo, instances, name)

    def _error(self, error) -> None:
        self._poll.stop()
        text = str(error) if isinstance(error, StudioError) else \
            f"{type(error).__name__}: {error}"
        self.failed.emit(text)


class CocoDialog(QDialog):
    """A window of its own: any image, the pretrained model's instances over it."""

    def __init__(self, window=None):
        super().__init__(window)
        self.setWindowTitle("Objects found by the COCO Mask R-CNN")
        self.resize(900, 640)
        self.finder = CocoFinder(self)
        self.view = InstancesView()
        self.status = QLabel(f"{zoo.TITLE}: 80 COCO classes. Open an image, or pick one in "
                             "the studio and choose this again.", wordWrap=True)
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(self._ask_file)
        self.compare = QCheckBox("Side by side with the Haar face detector")
        self.compare.setToolTip("Chapter 7's two eras on one photo: Viola-Jones's face boxes "
                                "beside Mask R-CNN's person instances, each with its time")
        self.compare.toggled.connect(lambda _: self._draw())
        self.haar_view = InstancesView(detail=False)
        self.haar_view.hide()
        self.finder.progressed.connect(self.status.setText)
        self.finder.found.connect(self._found)
        self.finder.failed.connect(self._failed)
        self.note = DownloadNote()
        self.result: tuple | None = None        # (photo, instances, name) found last
        bar = QHBoxLayout()
        bar.addWidget(self.open_button)
        bar.addWidget(self.compare)
        bar.addStretch(1)
        views = QHBoxLayout()
        views.addWidget(self.haar_view, 1)
        views.addWidget(self.view, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(views, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.note)

    def find(self, image, name: str) -> None:
        self.note.hide()
        self.finder.find(image, name, self)

    def _found(self, photo, instances, name: str) -> None:
        self.note.hide()
        self.result = (photo, instances, name)
        self._draw()

    def _failed(self, text: str) -> None:
        self.status.setText(DOWNLOAD_FAILED if self.note.show_failure(text) else f"⚠ {text}")

    def _draw(self) -> None:
        self.haar_view.setVisible(self.compare.isChecked())
        self.view.detail.setVisible(not self.compare.isChecked())   # room for two photos
        if self.result is None:
            return
        photo, instances, name = self.result
        ms = instances.extra.get("ms", 0)
        if not self.compare.isChecked():
            self.view.set_instances(photo, instances, f"{name} · COCO Mask R-CNN")
            self.status.setText(f"{len(instances)} instances at score ≥ "
                                f"{self.finder.min_score} in {name}; the model took {ms:.0f} "
                                f"ms (load {instances.extra.get('load_ms', 0):.0f} ms).")
            return
        try:
            faces = face_vs_person.haar_faces(photo)
        except StudioError as exc:
            self.status.setText(f"⚠ {exc}")
            return
        people = face_vs_person.persons(instances)
        self.haar_view.set_instances(photo, faces, f"Haar cascade: {_count(faces, 'face')} · "
                                                   f"{faces.extra['ms']:.0f} ms")
        self.view.set_instances(photo, people, f"Mask R-CNN: {_count(people, 'person')} · "
                                               f"{ms:.0f} ms")
        self.status.setText(f"{name}: the Haar cascade (2001) boxes faces in "
                            f"{faces.extra['ms']:.0f} ms; Mask R-CNN (2017) outlines whole "
                            f"people in {ms:.0f} ms on this CPU.")

    def _ask_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Image to search for objects", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff "
                                              "*.webp);;All files (*)")
        if path:
            try:
                self.find(read_image(path), path.rsplit("/", 1)[-1])
            except StudioError as exc:
                self.status.setText(f"⚠ {exc}")

    def done(self, result: int) -> None:        # closing: no worker left behind
        self.finder.close()
        super().done(result)


def open_dialog(window) -> CocoDialog:
    """The menu action: the dialog, already finding objects in the image chosen last."""
    dialog = getattr(window, "_coco_dialog", None)
    if dialog is None:
        dialog = window._coco_dialog = CocoDialog(window)
    dialog.show()
    dialog.raise_()
    chosen = getattr(window, "_chosen_image", None)
    if chosen is not None:
        dialog.find(*chosen)
    return dialog


def remember_chosen_images(window) -> None:
    """The last image picked or dropped anywhere is the one the action works on."""
    def chosen(image, caption=""):
        window._chosen_image = (np.asarray(image), caption or "the chosen image")
    window.prediction.image_chosen.connect(chosen)
    window.dataset.sample_clicked.connect(chosen)
