"""What a task declares so the studio can show it without branching on its name.

A family's plugin registers its profiles in ``cnnstudio.core.registry.PROFILES``; the
task object itself lives in a module that imports Keras.

    profile = task_profile("gan")
    profile.plots       → the curves: one Plot per pyqtgraph plot, each with its series
    profile.prediction  → what the prediction dock does with a dropped image
    profile.best_metric → the metric the Runs panel ranks epochs by

Panels say which tasks they serve through the GUI's panel registry; the window asks
the run's task for its profile. A new family adds a task with a profile and panels
registered for it, and touches no ``if task == ...`` anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cnnstudio.core.registry import ARCHITECTURES, PROFILES


@dataclass(frozen=True)
class Series:
    key: str                   # the log key the train_step returns, e.g. "d_loss"
    label: str                 # legend text


@dataclass(frozen=True)
class Plot:
    title: str
    series: tuple[Series, ...]
    validation: bool = True     # also draw val_<key> per epoch when the logs have it
    y_range: tuple[float, float] | None = None   # fixed range, e.g. (0, 1) for accuracy
    log_y: bool = False         # offer the log-scale toggle (losses)


@dataclass(frozen=True)
class Profile:
    task: str
    family: str                 # "classifier", "generative", … (a word for the UI)
    plots: tuple[Plot, ...]
    # What the prediction dock does with a dropped image: "classify" (top-5),
    # "reconstruct" (autoencoder), "discriminate" (a GAN's D score, + "Generate").
    prediction: str = "classify"
    best_metric: str = "val_accuracy"
    best_mode: str = "max"      # "max" or "min"
    # `cnnstudio export` (SavedModel, TFLite, ONNX with a top-k self-test) takes its runs.
    exportable: bool = False
    # "" when a resumed run repeats an uninterrupted one to the bit (CPU, a seed); else why
    # not, said when such a run is resumed (docs/families, tests/core/test_exact_resume.py).
    resume_note: str = ""
    # "" when its train_step runs several batches per call (Keras's steps_per_execution);
    # else why it runs one (said in the Training panel).
    single_step: str = ""

    def keys(self) -> list[str]:
        return [s.key for p in self.plots for s in p.series]


CLASSIFIER = Profile(
    "classification", "classifier",
    (Plot("Loss (lower is better)", (Series("loss", "loss"),), log_y=True),
     Plot("Accuracy (higher is better)", (Series("accuracy", "accuracy"),), y_range=(0, 1))),
    exportable=True)


def task_profile(task_name: str) -> Profile:
    """The profile a task declares; a classifier's for a task that declares none."""
    return PROFILES.find(task_name) or replace(CLASSIFIER, task=task_name)


def arch_profile(arch_id: str) -> Profile:
    return task_profile(ARCHITECTURES.get(arch_id).task)
