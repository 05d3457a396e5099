"""Training panel: the training options, Start / Pause / Stop, and a progress line.

The book's finer hyperparameters sit in a collapsible "Advanced" section
(``training_advanced.AdvancedOptions``), whose title counts how many differ from the
defaults, so a preset's choices are never hidden.
"""

from __future__ import annotations

import copy
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.config import OPTIMIZERS, TrainConfig
from cnnstudio.gui.panels.training_advanced import AdvancedOptions
from cnnstudio.gui.widgets.vscroll import vscroll

TEXT_INTERVAL_S = 0.25


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


class TrainingPanel(QWidget):
    start_requested = Signal()
    pause_toggled = Signal(bool)        # True: pause
    stop_requested = Signal()
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.epochs = QSpinBox(minimum=1, maximum=10_000, value=5)
        self.epochs.setToolTip("How many times training goes through all training images.")
        # 0 is allowed on purpose: the form then explains why it cannot train.
        self.batch = QSpinBox(minimum=0, maximum=65_536, value=64)
        self.batch.setToolTip("Images per training step; larger is faster per image, "
                              "smaller often generalises better.")
        self.optimizer = QComboBox()
        self.optimizer.addItems(list(OPTIMIZERS))
        self.optimizer.setToolTip("The rule that turns gradients into weight updates.")
        self.lr = QDoubleSpinBox(decimals=5, minimum=0.0, maximum=9.0, singleStep=0.0001,
                                 value=0.001)
        self.lr.setToolTip("Step size of each weight update (Adam: about 0.001).")
        self.val = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=0.9, singleStep=0.05,
                                  value=0.1)
        self.val.setToolTip("Share of training images held back to measure validation "
                            "accuracy each epoch.")
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=42)
        self.seed.setToolTip("Random seed: the same seed and settings give the same run.")
        self.device = QComboBox()
        self.device.addItem("Automatic (GPU if present)", "auto")
        self.device.addItem("CPU", "cpu")
        self.device.setToolTip("Where to train; GPUs appear here once TensorFlow has loaded.")
        self.mixed = QCheckBox("Mixed precision (GPU)")
        self.mixed.setToolTip("Compute in float16 where safe: faster on recent GPUs, no gain "
                              "on the CPU.")
        form = QFormLayout()
        for label, widget in (("Epochs:", self.epochs), ("Batch size:", self.batch),
                              ("Optimizer:", self.optimizer), ("Learning rate:", self.lr),
                              ("Validation split:", self.val), ("Seed:", self.seed),
                              ("Device:", self.device), ("", self.mixed)):
            form.addRow(label, widget)
        for signal in (self.epochs.valueChanged, self.batch.valueChanged,
                       self.optimizer.currentTextChanged, self.lr.valueChanged,
                       self.val.valueChanged, self.seed.valueChanged,
                       self.device.currentIndexChanged, self.mixed.toggled):
            signal.connect(self.changed)
        self.advanced_options = AdvancedOptions(self)
        self.advanced_options.changed.connect(self.changed)
        self.advanced = self.advanced_options.section
        self._augmentation: dict = {}
        self.start = QPushButton("Train")
        self.start.setToolTip("Start a new run with these settings (Ctrl+R).")
        self.start.setObjectName("primary")
        self.pause = QPushButton("Pause")
        self.pause.setCheckable(True)
        self.pause.setToolTip("Hold training after the current batch; press again to go on.")
        self.stop = QPushButton("Stop")
        self.stop.setToolTip("Stop at the next batch; the run can be resumed later (Esc).")
        self.start.clicked.connect(self.start_requested)
        self.pause.toggled.connect(self._pause_toggled)
        self.stop.clicked.connect(self.stop_requested)
        buttons = QHBoxLayout()
        for b in (self.start, self.pause, self.stop):
            buttons.addWidget(b)
        self.problems = QLabel(wordWrap=True)
        self.problems.setObjectName("error")
        self.problems.hide()
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setFormat("Not started")
        self.bar.setValue(0)
        self.detail = QLabel("Press Train to start.")
        self.detail.setWordWrap(True)
        # The options scroll when the Advanced section is open in a short dock, and so does
        # a long problem (the Haar preset's); the buttons and the progress stay in view.
        options = QWidget()
        options_layout = QVBoxLayout(options)
        options_layout.setContentsMargins(0, 0, 0, 0)
        options_layout.addWidget(self.problems)
        options_layout.addLayout(form)
        options_layout.addWidget(self.advanced)
        options_layout.addStretch(1)
        self.scroll = vscroll(options)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        self._started_at = 0.0
        self._shown_at = 0.0
        self._run = None
        self.calls = 1
        self._epoch_rate = 0.0
        self.set_running(False)

    # -- config ------------------------------------------------------------
    def train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs.value(), batch_size=self.batch.value(),
            optimizer=self.optimizer.currentText(), learning_rate=self.lr.value(),
            seed=self.seed.value(), validation_split=round(self.val.value(), 4),
            device=self.device.currentData(), mixed_precision=self.mixed.isChecked(),
            **self.advanced_options.values(), augmentation=copy.deepcopy(self._augmentation))

    def set_config(self, t: TrainConfig) -> None:
        self._augmentation = copy.deepcopy(t.augmentation) if isinstance(t.augmentation, dict) \
            else {}
        self.advanced_options.set_values(t)
        self.epochs.setValue(t.epochs)
        self.batch.setValue(t.batch_size)
        self.optimizer.setCurrentText(t.optimizer)
        self.lr.setValue(t.learning_rate)
        self.val.setValue(t.validation_split)
        self.seed.setValue(t.seed)
        if t.device == "all":
            self._add_all_gpus()          # a cluster or multi-GPU config keeps its choice
        index = self.device.findData(t.device)
        self.device.setCurrentIndex(max(index, 0))
        self.mixed.setChecked(bool(t.mixed_precision))

    def set_gpus(self, names: list[str]) -> None:
        for i, name in enumerate(names):
            if self.device.findData(f"gpu:{i}") < 0:
                self.device.addItem(f"GPU {i}: {name}", f"gpu:{i}")
        if len(names) > 1:
            self._add_all_gpus()

    def _add_all_gpus(self) -> None:
        if self.device.findData("all") >= 0:
            return
        self.device.addItem("All GPUs (data parallel)", "all")
        self.device.setItemData(
            self.device.findData("all"),
            "MirroredStrategy over every GPU: the batch size is per GPU; the global batch is "
            "batch × GPUs (the status bar says it when the run starts). Classifiers, transfer "
            "and autoencoders; GANs and attention models train on one device.",
            Qt.ToolTipRole)

    def set_problems(self, problems: list[str]) -> None:
        """Reasons the current settings cannot train; none → Train is enabled."""
        self._problems = problems
        self.problems.setText("\n".join(f"• {p}" for p in problems))
        self.problems.setVisible(bool(problems))
        if problems:
            self.scroll.verticalScrollBar().setValue(0)     # the first thing to read
        self._update_buttons()

    # -- state -------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self._running = running
        if not running:
            self.pause.blockSignals(True)
            self.pause.setChecked(False)
            self.pause.setText("Pause")
            self.pause.blockSignals(False)
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = getattr(self, "_running", False)
        self.start.setEnabled(not running and not getattr(self, "_problems", []))
        self.pause.setEnabled(running)
        self.stop.setEnabled(running)

    def _pause_toggled(self, paused: bool) -> None:
        self.pause.setText("Resume" if paused else "Pause")
        self.pause_toggled.emit(paused)
        if paused:
            self.detail.setText("Paused — press Resume to go on.")

    # -- events ------------------------------------------------------------
    def on_preparing(self, text: str) -> None:
        self.bar.setRange(0, 0)       # busy indicator until the first batch
        self.detail.setText(text)

    def on_progress(self, event) -> None:
        if event.total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * event.done / event.total))
            unit = " MB" if event.stage == "download" else ""
            self.bar.setFormat(f"{event.stage}: {event.done:.1f}/{event.total:.1f}{unit}")
        self.detail.setText(event.message or event.stage)

    def on_epoch(self, event) -> None:
        self._epoch_rate = event.samples_per_sec

    def on_started(self, event) -> None:
        self._run = event
        self._epoch_rate = 0.0
        self._started_at = time.perf_counter()
        self.bar.setRange(0, max(1, event.epochs * event.steps_per_epoch))
        self.bar.setValue(event.initial_epoch * event.steps_per_epoch)
        self.bar.setFormat(f"Epoch {event.initial_epoch + 1}/{event.epochs}")
        self.calls = calls = getattr(event, "steps_per_call", 1)
        self.detail.setText(f"{'Resumed' if event.resumed else 'Started'}: {event.num_train:,} "
                            f"training, {event.num_val:,} validation images, "
                            f"{event.params:,} parameters; {calls} step"
                            f"{'s' if calls > 1 else ''} per call")
        self.detail.setToolTip(getattr(event, "steps_per_call_note", ""))

    def on_batches(self, batches: list) -> None:
        # Text updates cost the training thread GIL time: four a second are plenty.
        now = time.perf_counter()
        if self._run is None or not batches or now - self._shown_at < TEXT_INTERVAL_S:
            return
        self._shown_at = now
        b, run = batches[-1], self._run
        done = (b.epoch - 1) * b.steps + b.step
        # QProgressBar repaints synchronously whenever its text changes, so the bar names
        # only the epoch; the step goes in the label below, repainted with the window.
        self.bar.setUpdatesEnabled(False)      # setValue's own repaint is synchronous …
        self.bar.setValue(done)
        self.bar.setFormat(f"Epoch {b.epoch}/{run.epochs}")
        self.bar.setUpdatesEnabled(True)       # … this one joins the window's next paint
        left_steps = run.epochs * b.steps - done
        rate = b.samples_per_sec
        if b.step < max(5, b.steps // 10) and self._epoch_rate:
            # An epoch's first batches also pay for its data pipeline: a rate over a few
            # steps says little, so the last whole epoch's rate stands in.
            rate = self._epoch_rate
        eta = left_steps * run.batch_size / rate if rate > 0 else 0
        loss = b.logs.get("loss")
        acc = b.logs.get("accuracy")
        parts = [f"step {b.step}/{b.steps}", f"{rate:,.0f} samples/s",
                 f"about {_duration(eta)} left"]
        if self.calls > 1:                # the tooltip says why
            parts.insert(1, f"{self.calls} steps per call")
        if loss is not None:
            parts.append(f"loss {loss:.4f}")
        if acc is not None:
            parts.append(f"accuracy {acc:.1%}")
        if not self.pause.isChecked():
            self.detail.setText(" · ".join(parts))

    def on_finished(self, event) -> None:
        words = {"finished": "Finished", "stopped": "Stopped (resumable from the Runs panel)"}
        self.bar.setRange(0, 1)
        self.bar.setValue(1 if event.status == "finished" else 0)
        self.bar.setFormat(f"{words.get(event.status, event.status)} after "
                           f"{event.epochs_done} epoch(s)")
        test = event.test.get("accuracy")
        text = f"{words.get(event.status, event.status)} in {_duration(event.seconds)}"
        if test is not None:
            text += f" · test accuracy {test:.1%}"
        self.detail.setText(text)

    def on_failed(self, reason: str) -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setFormat("Failed")
        self.detail.setText(reason)
