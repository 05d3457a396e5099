"""Audit its data: the Suspect labels tab of classifier runs (issue 27, section 3).

- "Find suspects": k models of the run's architecture, each trained without one fold, give
  every training image probabilities from a model that never saw it; cleanlab picks the
  likely label errors (``core/probes/label_audit.py``, on a worker thread, progress shown,
  Cancel between batches). The gallery orders them by self-confidence, given → suggested.
- Per image: keep, relabel, exclude (or undo), written at once to the decisions file beside
  the dataset (``core/probes/label_decisions.py``); "Train again with them" puts the run's
  config, with its ``label_decisions`` dataset option, in the window for the next run.
- Training images ranked by loss under the run's own model, linked to its confusion matrix
  on the training set: clicking a cell keeps only that cell's images (again: all of them).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import StudioError
from cnnstudio.core.probes import label_audit as la
from cnnstudio.core.probes import label_decisions as ld
from cnnstudio.core.probes.calibration_record import evenly_spaced, predict_probabilities
from cnnstudio.gui.families.classification.loss_ranking import LossRanking
from cnnstudio.gui.model_access import Answers, ModelAccess
from cnnstudio.gui.widgets.mosaic import ImageGallery

SHOWN = 200              # suspects shown
LOSS_LIMIT = 10_000      # training images the run's model ranks (evenly spaced)
COLOURS = {"keep": "#188038", "relabel": "#1a73e8", "exclude": "#d93025"}


class SuspectsPanel(QWidget):
    updated = Signal()          # the suspects gallery was drawn
    ranked = Signal()           # the loss ranking (and confusion matrix) was drawn
    audited = Signal()          # an audit finished and was saved
    decided = Signal(str)       # a decision was written (its action)
    failed = Signal(str)
    _progress = Signal(float, str)      # from the audit's thread (queued)

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.data: la.TrainingSet | None = None
        self.audit: la.AuditResult | None = None
        self.decisions: dict | None = None
        self.decisions_file: Path | None = None
        self.current: int | None = None                 # the suspect chosen (training index)
        self.stale = False
        self.pending: set[str] = set()          # "data", "losses": jobs in flight
        self._cancel = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="suspects")
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)

        self.folds = QSpinBox(minimum=2, maximum=10, value=3, prefix="folds ")
        self.epochs = QSpinBox(minimum=1, maximum=200, value=2, prefix="epochs ")
        self.folds.setToolTip("k: models trained, each without one k-th of the training images")
        self.find_button = QPushButton("Find suspects")
        self.find_button.setToolTip("Train k models of this architecture on k−1 folds each; "
                                    "cleanlab then finds the labels their out-of-sample "
                                    "probabilities disagree with")
        self.find_button.setEnabled(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.bar = QProgressBar(maximum=1000)
        self.bar.hide()
        self.suspect_gallery = ImageGallery(side=64)
        self.chosen = QLabel("Click a suspect to decide about it.", wordWrap=True)
        self.keep_button, self.exclude_button = QPushButton("Keep"), QPushButton("Exclude")
        self.relabel_button, self.undo_button = QPushButton("Relabel as"), QPushButton("Undo")
        self.relabel_box = QComboBox()
        self.retrain_button = QPushButton("Train again with these decisions")
        self.retrain_button.setToolTip("Put this run's settings in the window, with the "
                                       "decisions file as the dataset's label_decisions "
                                       "option; press Train to start the next run")
        self.losses = LossRanking()
        self.losses.ranked.connect(self.ranked)
        self.status = QLabel("Train a classifier or open a classifier run.", wordWrap=True)
        self.status.setObjectName("muted")
        self._layout()
        self.find_button.clicked.connect(lambda: self.find_suspects())
        self.cancel_button.clicked.connect(lambda: self._cancel.set())    # the current one
        self._progress.connect(self._show_progress, Qt.QueuedConnection)
        self.suspect_gallery.imageClicked.connect(self.choose)
        self.losses.gallery.imageClicked.connect(self._show_in_window)
        for button, action in ((self.keep_button, "keep"), (self.exclude_button, "exclude"),
                               (self.relabel_button, "relabel"), (self.undo_button, "undo")):
            button.clicked.connect(lambda _=False, a=action: self.decide(a))
        self.retrain_button.clicked.connect(lambda: self.train_again())
        self._enable_decisions()

    def _layout(self) -> None:
        top = QHBoxLayout()
        for widget in (self.folds, self.epochs, self.find_button, self.cancel_button):
            top.addWidget(widget)
        top.addWidget(self.bar, 4)
        top.addStretch(1)           # the buttons keep their size while the bar is hidden
        actions = QHBoxLayout()
        for widget in (self.keep_button, self.relabel_button, self.relabel_box,
                       self.exclude_button, self.undo_button):
            actions.addWidget(widget)
        actions.addStretch(1)
        actions.addWidget(self.retrain_button)
        suspects = QWidget()
        column = QVBoxLayout(suspects)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.suspect_gallery, 1)
        column.addWidget(self.chosen)
        column.addLayout(actions)
        self.split = split = QSplitter(Qt.Vertical)
        split.addWidget(suspects)
        split.addWidget(self.losses)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

    # -- the registry's hooks -----------------------------------------------------------------
    def run_started(self, event) -> None:
        self.set_run(event.run_dir)

    def open_run(self, path) -> None:
        self.set_run(path)

    def epoch_done(self, event) -> None:
        # The ranking follows the training model (between its batches) while the tab is on
        # screen, else when it is looked at: hidden, it cost a live LeNet run ~0.8 s an epoch.
        self._losses_if_shown()

    def shown(self) -> None:
        if self.stale:
            self.refresh_losses()

    def busy(self) -> bool:
        """Screenshot mode waits for the training images and their ranking (not an audit)."""
        return bool(self.pending)

    def close_panel(self) -> None:
        self._cancel.set()
        self.models.close()
        self.pool.shutdown(wait=True, cancel_futures=True)

    # -- a run --------------------------------------------------------------------------------
    def set_run(self, run_dir) -> None:
        run_dir = Path(run_dir) if run_dir else None
        if run_dir is not None and run_dir == self.run_dir and self.data is not None:
            self._losses_if_shown()       # the same run, finished: its saved model now
            return
        self._cancel.set()                # an audit of the previous run stops
        self.run_dir, self.data, self.audit, self.current = run_dir, None, None, None
        self.pending.clear()
        self.models.set_run(run_dir)
        self.find_button.setEnabled(False)
        self._draw_suspects()
        self.losses.clear()
        if run_dir is None:
            return
        self.status.setText("Loading the run's training images…")
        self.pending.add("data")
        self._submit("data", lambda: self._read(run_dir), lambda got: self._data_ready(
            run_dir, got))

    def _submit(self, key, job, on_result) -> None:
        self.answers.watch(key, self.pool.submit(job), on_result,
                           lambda error: self._failed(error, key))

    @staticmethod
    def _read(run_dir: Path):
        """The training images, the saved audit and the decisions file (runs root: the
        run's parent folder)."""
        data = la.training_set(run_dir)
        path = ld.decisions_path(data.dataset_config, run_dir.parent)
        decisions = ld.load(path) if path.is_file() else None
        return data, la.load_audit(run_dir), path, decisions

    def _data_ready(self, run_dir: Path, got) -> None:
        if run_dir != self.run_dir:
            return
        self.pending.discard("data")
        self.data, audit, self.decisions_file, self.decisions = got
        if audit is not None and audit.keys == self.data.keys:
            self.audit = audit                     # else: the data changed since
            self.folds.setValue(audit.folds)
            self.epochs.setValue(audit.epochs)
        self.relabel_box.clear()
        self.relabel_box.addItems(self.data.class_names)
        self.find_button.setEnabled(True)
        self.status.setText(f"{len(self.data.y)} training images · decisions go to "
                            f"{self.decisions_file}")
        self._enable_decisions()
        self._draw_suspects()
        self._losses_if_shown()

    def _losses_if_shown(self) -> None:
        if self.isVisible():
            self.refresh_losses()
        else:
            self.stale = True             # ranked when the tab is looked at

    # -- finding suspects ---------------------------------------------------------------------
    def find_suspects(self) -> None:
        if self.data is None or self.run_dir is None:
            self.failed.emit("no run is open")
            return
        run_dir, data = self.run_dir, self.data
        folds, epochs = self.folds.value(), self.epochs.value()
        self._cancel = cancel = threading.Event()

        def report(fraction: float, text: str) -> None:       # the audit's thread
            if cancel.is_set():
                raise la.AuditCancelled()
            self._progress.emit(fraction, text)

        self.find_button.setEnabled(False)
        self.cancel_button.show()
        self.bar.setValue(0)
        self.bar.show()
        self.status.setText(f"Training {folds} models, {epochs} epoch(s) each…")
        self._submit("audit", lambda: la.audit_run(run_dir, folds, epochs, report, data=data),
                     lambda result: self._audited(run_dir, result))

    def _show_progress(self, fraction: float, text: str) -> None:
        if self.cancel_button.isVisible():
            self.bar.setValue(int(fraction * 1000))
            self.bar.setFormat(f"{text} · %p%")

    def _audited(self, run_dir: Path, result: la.AuditResult) -> None:
        self._audit_over()
        if run_dir != self.run_dir:
            return
        self.audit = result
        self.status.setText(f"Saved in {run_dir.name}/{la.FILE}: the folds' models agree "
                            f"with {result.accuracy:.1%} of the given labels.")
        self._draw_suspects()
        self.audited.emit()

    def _audit_over(self) -> None:
        self.cancel_button.hide()
        self.bar.hide()
        self.find_button.setEnabled(self.data is not None)

    def _failed(self, error, key: str) -> None:
        self.pending.discard(key)
        if key == "audit":
            self._audit_over()
        if isinstance(error, la.AuditCancelled):
            self.status.setText("Stopped: no suspects were saved.")
            return
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"Failed: {message}")
        self.failed.emit(message)

    # -- drawing ------------------------------------------------------------------------------
    def where(self, index: int) -> str:
        """'training #12', with its file when it has one (a pixel digest says nothing)."""
        key = self.data.keys[index]
        return f"training #{index}" + ("" if key.startswith("sha1:") else f" ({key})")

    def name(self, label: int) -> str:
        names = self.data.class_names if self.data else []
        return names[label] if 0 <= label < len(names) else str(label)

    def _draw_suspects(self) -> None:
        audit, data = self.audit, self.data
        if audit is None or data is None:
            self.suspect_gallery.set_images([], [], [], "No suspects yet: <b>Find suspects</b> "
                                            "trains k models, each without one fold, and asks "
                                            "each about the images it never saw.")
            self.split.setSizes([1, 3])          # until then the ranking has the room
            self.updated.emit()
            return
        shown = audit.found[:SHOWN]
        captions, colours, tips = [], [], []
        for i, given, suggested, confidence in shown:
            entry = ld.decision_of(self.decisions, data.keys[i])
            action = entry["action"] if entry else None
            verdict = (f" · ✎{entry['label']}" if action == "relabel" else
                       {"keep": " · kept", "exclude": " · out"}.get(action, ""))
            captions.append(f"{self.name(given)} → {self.name(suggested)}?\n"
                            f"{confidence:.0%}{verdict}")
            colours.append(COLOURS.get(action))
            tips.append(f"{self.where(i)} · given {self.name(given)} · "
                        f"suggested {self.name(suggested)} · self-confidence {confidence:.1%}"
                        + (f" · decided: {action}" if action else ""))
        header = (f"<b>{len(audit.found)} suspect label(s)</b> among {len(audit.y)} training "
                  f"images ({audit.folds} folds × {audit.epochs} epochs) · lowest "
                  f"self-confidence first · caption: given → suggested, the probability "
                  f"left for the given label"
                  + (f" · first {SHOWN} shown" if len(audit.found) > SHOWN else ""))
        self.split.setSizes([3, 2])
        self.suspect_gallery.set_images(data.x[[s[0] for s in shown]], captions,
                                        [s[0] for s in shown], header, colours, tips)
        self.updated.emit()

    def refresh_losses(self) -> None:
        if self.data is None or self.run_dir is None:
            return
        self.stale = False
        rows = evenly_spaced(np.arange(len(self.data.y)), LOSS_LIMIT)
        x, run_dir = self.data.x[rows], self.run_dir
        self.pending.add("losses")
        self.models.submit("losses", lambda model: predict_probabilities(model, x),
                           lambda p: self._losses_ready(run_dir, rows, p),
                           lambda error: self._failed(error, "losses"))

    def _losses_ready(self, run_dir: Path, rows, probs) -> None:
        self.pending.discard("losses")
        if run_dir == self.run_dir:
            self.losses.show_ranking(self.data.x, self.data.y, rows, probs, self.name)

    def _show_in_window(self, index: int) -> None:
        image, caption = self.data.x[index], self.where(index)
        tabs, dock = getattr(self.window, "tabs", None), getattr(self.window, "prediction", None)
        if tabs is not None:
            tabs.show_image(image, caption)
        if dock is not None:
            dock.predict_image(image, caption)

    # -- decisions ----------------------------------------------------------------------------
    def choose(self, index: int) -> None:
        self.current = index
        found = {s[0]: s for s in (self.audit.found if self.audit else [])}
        _, given, suggested, confidence = found.get(index, (index, int(self.data.y[index]),
                                                            int(self.data.y[index]), 0.0))
        self.relabel_box.setCurrentIndex(suggested)
        entry = ld.decision_of(self.decisions, self.data.keys[index])
        self.chosen.setText(f"{self.where(index).capitalize()}: given "
                            f"<b>{self.name(given)}</b>, suggested <b>{self.name(suggested)}"
                            f"</b>, self-confidence {confidence:.1%}"
                            + (f" · decided: {entry['action']}" if entry else ""))
        self._enable_decisions()
        self._show_in_window(index)

    def decide(self, action: str) -> None:
        if self.current is None or self.data is None:
            return
        index = self.current
        label = self.relabel_box.currentText() if action == "relabel" else None
        try:
            self.decisions = ld.decide(self.decisions_file, self.data.dataset_config,
                                       self.data.class_names, self.data.keys[index], action,
                                       self.name(int(self.data.y[index])), label)
        except (OSError, StudioError) as exc:       # a read-only disk, a broken file
            self._decision_failed(exc)
            return
        self.status.setText(f"{action.capitalize()}: written to {self.decisions_file}")
        self._draw_suspects()
        self.choose(index)
        self.decided.emit(action)

    def _decision_failed(self, exc) -> None:
        self.status.setText(f"The decision was not saved: {exc}")
        self.failed.emit(str(exc))

    def _enable_decisions(self) -> None:
        on = self.current is not None and self.data is not None
        for widget in (self.keep_button, self.relabel_button, self.relabel_box,
                       self.exclude_button, self.undo_button):
            widget.setEnabled(on)
        self.retrain_button.setEnabled(bool(self.decisions and self.decisions["decisions"]))

    def train_again(self):
        """The run's config, its dataset option naming the decisions file, in the window."""
        from cnnstudio.core.training.rundir import RunDir

        if self.run_dir is None or self.decisions_file is None:
            return
        config = RunDir.open(self.run_dir).config()
        config.dataset.options[ld.OPTION] = str(self.decisions_file)
        setter = getattr(self.window, "set_run_config", None)
        if setter is not None:
            setter(config)
        self.status.setText(f"The window holds this run's settings with the decisions "
                            f"({self.decisions_file.name}): press Train for the next run.")
        return config
