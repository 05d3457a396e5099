"""The training panel's "Advanced" section: the book's finer hyperparameters
(learning-rate schedule, initialiser, dropout, batch norm, L1/L2, early stopping,
adversarial training) in a collapsible whose title counts how many differ from the
defaults, so a preset's choices are never hidden. Split from training_panel.py, which keeps the everyday options, the
buttons and the progress line.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QSpinBox,
    QWidget,
)
from superqt import QCollapsible

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.probes import adversarial_training

SCHEDULES = (("constant", "Constant"), ("step", "Step decay"), ("cosine", "Cosine decay"),
             ("plateau", "Reduce on plateau"))
INITIALIZERS = (("default", "Architecture's own"), ("glorot", "Glorot / Xavier"),
                ("he", "He (for ReLU)"), ("truncated-normal", "Truncated normal"))
BATCH_NORM = (("default", "Architecture's own", None), ("on", "On", True),
              ("off", "Off", False))
# The fields the Advanced section edits (its title counts those changed from the defaults).
ADVANCED = ("lr_schedule", "lr_decay", "lr_step_epochs", "lr_patience", "initializer",
            "dropout", "batch_norm", "l1", "l2", "early_stopping", "patience", "steps_per_call",
            "adversarial")


def _combo(items, tip: str) -> QComboBox:
    """A combo box of (key, text) items: shows the text, holds the key as its data."""
    box = QComboBox()
    for key, text in items:
        box.addItem(text, key)
    box.setToolTip(tip)
    return box


class AdvancedOptions(QObject):
    """The section's widgets; ``section`` is the collapsible to lay out, ``changed`` fires
    on any edit, ``values()`` are its TrainConfig fields."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.schedule = _combo(SCHEDULES, "How the learning rate changes during training: "
                               "constant, cut every few epochs, a cosine curve to zero, or "
                               "cut when validation loss stalls.")
        self.decay = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=1.0, singleStep=0.05,
                                    value=0.1)
        self.decay.setToolTip("Each cut multiplies the learning rate by this factor "
                              "(0.1: ten times smaller).")
        self.step_epochs = QSpinBox(minimum=1, maximum=10_000, value=10, suffix=" epochs")
        self.step_epochs.setToolTip("Step decay cuts the learning rate every this many epochs.")
        self.lr_patience = QSpinBox(minimum=1, maximum=1_000, value=3, suffix=" epochs")
        self.lr_patience.setToolTip("Reduce-on-plateau cuts the learning rate after this many "
                                    "epochs without a lower validation loss.")
        self.initializer = _combo(INITIALIZERS, "How the weights start: Glorot (Xavier) suits "
                                  "tanh and sigmoid, He suits ReLU; the default keeps the "
                                  "architecture's choice.")
        self.dropout_on = QCheckBox("Override")
        self.dropout_on.setToolTip("Tick to give every Dropout layer this rate instead of the "
                                   "architecture's own.")
        # Allowed up to 1 on purpose: 1.0 drops everything, and the form says why it cannot train.
        self.dropout = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05,
                                      value=0.5)
        self.dropout.setToolTip("Share of activations zeroed at random in training, "
                                "so the network cannot rely on any single one.")
        self.dropout.setEnabled(False)
        self.dropout_on.toggled.connect(self.dropout.setEnabled)
        dropout_row = QHBoxLayout()
        dropout_row.setContentsMargins(0, 0, 0, 0)
        dropout_row.addWidget(self.dropout_on)
        dropout_row.addWidget(self.dropout, 1)
        self.batch_norm = _combo([(key, text) for key, text, _ in BATCH_NORM],
                                 "Batch normalisation re-centres each layer's outputs per "
                                 "batch; only architectures with a batch-norm option can "
                                 "switch it.")
        self.l1 = QDoubleSpinBox(decimals=6, minimum=0.0, maximum=1.0, singleStep=0.0001)
        self.l1.setToolTip("L1 penalty on the weights: pushes many of them to exactly zero.")
        self.l2 = QDoubleSpinBox(decimals=6, minimum=0.0, maximum=1.0, singleStep=0.0001)
        self.l2.setToolTip("L2 penalty (weight decay) on the weights: keeps them small, "
                           "which usually generalises better (try 0.0005).")
        self.early = QCheckBox("When validation loss stalls")
        self.early.setToolTip("Early stopping: end the run after this many epochs without a "
                              "lower validation loss and keep the best weights.")
        self.patience = QSpinBox(minimum=1, maximum=1_000, value=5, suffix=" epochs")
        self.patience.setToolTip("Epochs without improvement before early stopping ends the run.")
        self.patience.setEnabled(False)
        self.early.toggled.connect(self.patience.setEnabled)
        self.steps_per_call = QSpinBox(minimum=0, maximum=1024, value=0)
        self.steps_per_call.setSpecialValueText("Automatic")
        self.steps_per_call.setToolTip(
            "Training steps per call into the compiled graph. Automatic: enough that a call "
            "takes about 75 ms (small networks train up to 1.5× faster; the curves still move "
            "and Stop still acts within half a second), re-tuned after the first epoch.")
        self.adversarial_on = QCheckBox("FGSM")
        self.adversarial_on.setToolTip(
            "Adversarial training: replace a share of each batch by its FGSM version (every "
            "pixel moved by ε along the sign of the loss gradient), so the network learns to "
            "resist the attack. Compare the accuracy-vs-ε curves in the Fool it tab.")
        self.adversarial_eps = QDoubleSpinBox(decimals=3, minimum=0.005, maximum=1.0,
                                              singleStep=0.01, value=0.1, prefix="ε ")
        self.adversarial_eps.setToolTip("How far each pixel moves, as a fraction of 0..255 "
                                        "(0.1: up to 25 grey levels).")
        self.adversarial_ratio = QDoubleSpinBox(decimals=2, minimum=0.05, maximum=1.0,
                                                singleStep=0.05, value=0.5)
        self.adversarial_ratio.setToolTip("The share of each batch replaced by adversarial "
                                          "images (0.5: half clean, half attacked).")
        adversarial_row = QHBoxLayout()
        adversarial_row.setContentsMargins(0, 0, 0, 0)
        # Two rows, not one: three editors side by side widened the Training dock past a
        # 1280-px laptop's share of it (its scroll bar then covered the Stop button).
        for widget in (self.adversarial_on, self.adversarial_eps):
            adversarial_row.addWidget(widget, 0 if widget is self.adversarial_on else 1)
        for widget in (self.adversarial_eps, self.adversarial_ratio):
            widget.setEnabled(False)
            self.adversarial_on.toggled.connect(widget.setEnabled)
        self.advanced_form = QFormLayout()
        self.advanced_form.setContentsMargins(0, 0, 0, 0)
        for label, item in (("LR schedule:", self.schedule), ("Decay factor:", self.decay),
                            ("Decay every:", self.step_epochs),
                            ("Plateau patience:", self.lr_patience),
                            ("Initialiser:", self.initializer), ("Dropout:", dropout_row),
                            ("Batch norm:", self.batch_norm), ("L1 penalty:", self.l1),
                            ("L2 penalty:", self.l2), ("Early stopping:", self.early),
                            ("Stop after:", self.patience),
                            ("Steps per call:", self.steps_per_call),
                            ("Adversarial:", adversarial_row),
                            ("Share attacked:", self.adversarial_ratio)):
            self.advanced_form.addRow(label, item)
        body = QWidget()
        body.setLayout(self.advanced_form)
        self.section = QCollapsible("Advanced", collapsedIcon="▶")
        self.section.setDuration(120)
        self.section.toggleButton().setToolTip("The book's finer hyperparameters: learning-rate "
                                                "schedule, initialiser, regularisation, "
                                                "early stopping, steps per call, "
                                                "adversarial training.")
        # Into the content's layout directly: QCollapsible.addWidget installs a Python event
        # filter, which Qt would call while the window is torn down (PySide crashes there).
        self.section.content().layout().addWidget(body)
        self.schedule.currentIndexChanged.connect(self._schedule_changed)
        for signal in (self.schedule.currentIndexChanged, self.decay.valueChanged,
                       self.step_epochs.valueChanged, self.lr_patience.valueChanged,
                       self.initializer.currentIndexChanged, self.dropout_on.toggled,
                       self.dropout.valueChanged, self.batch_norm.currentIndexChanged,
                       self.l1.valueChanged, self.l2.valueChanged, self.early.toggled,
                       self.patience.valueChanged, self.steps_per_call.valueChanged,
                       self.adversarial_on.toggled, self.adversarial_eps.valueChanged,
                       self.adversarial_ratio.valueChanged):
            signal.connect(self._advanced_changed)
        self._schedule_changed()
        self._advanced_changed()

    def _schedule_changed(self) -> None:
        """Show only the fields the chosen schedule uses."""
        kind = self.schedule.currentData()
        form = self.advanced_form
        form.setRowVisible(self.decay, kind in ("step", "plateau"))
        form.setRowVisible(self.step_epochs, kind == "step")
        form.setRowVisible(self.lr_patience, kind == "plateau")
        if self.section.isExpanded():      # the section's height follows its rows
            self.section.expand(animate=False)

    def _advanced_changed(self) -> None:
        values, default = self.values(), TrainConfig()
        changed = sum(values[k] != getattr(default, k) for k in ADVANCED)
        self.section.setText(f"Advanced ({changed} changed)" if changed else "Advanced")
        self.changed.emit()

    def schedule_fields_visible(self) -> dict[str, bool]:
        """Which schedule-specific fields the form shows (they live in the Advanced section)."""
        form = self.advanced_form
        return {"lr_decay": form.isRowVisible(self.decay),
                "lr_step_epochs": form.isRowVisible(self.step_epochs),
                "lr_patience": form.isRowVisible(self.lr_patience)}

    def values(self) -> dict:
        return {"lr_schedule": self.schedule.currentData(),
                "lr_decay": round(self.decay.value(), 4),
                "lr_step_epochs": self.step_epochs.value(),
                "lr_patience": self.lr_patience.value(),
                "initializer": self.initializer.currentData(),
                "dropout": round(self.dropout.value(), 4) if self.dropout_on.isChecked()
                else None,
                "batch_norm": {k: v for k, _, v in BATCH_NORM}[self.batch_norm.currentData()],
                "l1": round(self.l1.value(), 7), "l2": round(self.l2.value(), 7),
                "early_stopping": self.early.isChecked(), "patience": self.patience.value(),
                "steps_per_call": self.steps_per_call.value(),
                "adversarial": {"eps": round(self.adversarial_eps.value(), 4),
                                "ratio": round(self.adversarial_ratio.value(), 4)}
                if self.adversarial_on.isChecked() else {}}

    def set_values(self, t: TrainConfig) -> None:
        self.schedule.setCurrentIndex(max(self.schedule.findData(t.lr_schedule), 0))
        self.decay.setValue(t.lr_decay)
        self.step_epochs.setValue(t.lr_step_epochs)
        self.lr_patience.setValue(t.lr_patience)
        self.initializer.setCurrentIndex(max(self.initializer.findData(t.initializer), 0))
        self.dropout_on.setChecked(t.dropout is not None)
        if t.dropout is not None:
            self.dropout.setValue(t.dropout)
        key = {v: k for k, _, v in BATCH_NORM}.get(t.batch_norm, "default")
        self.batch_norm.setCurrentIndex(self.batch_norm.findData(key))
        self.l1.setValue(t.l1)
        self.l2.setValue(t.l2)
        self.early.setChecked(bool(t.early_stopping))
        self.patience.setValue(t.patience)
        self.steps_per_call.setValue(int(t.steps_per_call))
        on = adversarial_training.is_active(t.adversarial) \
            and not adversarial_training.adversarial_problems(t.adversarial)
        self.adversarial_on.setChecked(on)
        if on:
            eps, ratio = adversarial_training.settings(t.adversarial)
            self.adversarial_eps.setValue(eps)
            self.adversarial_ratio.setValue(ratio)
        if any(getattr(t, k) != getattr(TrainConfig(), k) for k in ADVANCED):
            self.section.expand(animate=False)     # a preset's choices are shown, not hidden
