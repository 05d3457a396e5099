"""RunConfig: everything needed to reproduce a run, as plain JSON-able data.

The GUI builds one from its pickers, the CLI from flags or a file; the engine
only ever sees a validated RunConfig. ``problems()`` lists every mistake with
one readable sentence each, so a form can show them inline.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import ConfigError

OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "adagrad", "nadam")
LR_SCHEDULES = ("constant", "step", "cosine", "plateau")
INITIALIZERS = ("default", "glorot", "he", "truncated-normal")
DEVICES_HELP = "'auto', 'cpu', 'gpu:N' or 'all' (every GPU, data parallel)"


@dataclass
class DatasetConfig:
    id: str = "mnist-5k"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelConfig:
    id: str = "lenet5"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainConfig:
    epochs: int = 5
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    seed: int = 42
    validation_split: float = 0.1
    device: str = "auto"
    mixed_precision: bool = False
    # The book's hyperparameters; every default leaves the architecture as it was built.
    lr_schedule: str = "constant"       # constant | step | cosine | plateau
    lr_decay: float = 0.1               # step and plateau: multiply the rate by this
    lr_step_epochs: int = 10            # step: decay every this many epochs
    lr_patience: int = 3                # plateau: epochs without improvement before decaying
    initializer: str = "default"        # default (the architecture's) | glorot | he | truncated-normal
    dropout: float | None = None        # None: each Dropout layer keeps the architecture's rate
    batch_norm: bool | None = None      # None: the architecture's own batch_norm option
    l1: float = 0.0
    l2: float = 0.0
    early_stopping: bool = False
    patience: int = 5                   # early stopping: epochs without improvement
    augmentation: dict[str, Any] = field(default_factory=dict)   # see cnnstudio.core.augment
    steps_per_call: int = 0             # training steps per graph call; 0: chosen by the engine
    # FGSM examples mixed into each batch, {"eps": 0.1, "ratio": 0.5}; {}: off
    # (see cnnstudio.core.probes.adversarial_training)
    adversarial: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunConfig:
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainConfig = field(default_factory=TrainConfig)
    name: str = ""

    # -- JSON -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        if not isinstance(data, dict):
            raise ConfigError("a run config must be a JSON object")
        problems: list[str] = []
        _unknown_keys(data, cls, "config", problems)
        parts = {}
        for key, part_cls in (("dataset", DatasetConfig), ("model", ModelConfig),
                              ("training", TrainConfig)):
            raw = data.get(key, {})
            if not isinstance(raw, dict):
                problems.append(f"'{key}' must be an object, got {type(raw).__name__}")
                raw = {}
            _unknown_keys(raw, part_cls, key, problems)
            parts[key] = part_cls(**{k: v for k, v in raw.items() if k in _names(part_cls)})
        if problems:
            raise ConfigError("; ".join(problems))
        return cls(name=str(data.get("name", "")), **parts)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> RunConfig:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        return cls.from_json(path.read_text(encoding="utf-8"))

    # -- validation -------------------------------------------------------
    def problems(self) -> list[str]:
        """Every problem with this config, one readable sentence each (empty when valid)."""
        from cnnstudio.core.datasets.base import is_folder_dataset
        from cnnstudio.core.registry import ARCHITECTURES, DATASETS

        found: list[str] = []
        t = self.training
        _positive_int(found, "epochs", t.epochs)
        _positive_int(found, "batch_size", t.batch_size)
        if not _is_int(t.seed) or t.seed < 0:
            found.append(f"seed must be a non-negative integer, got {t.seed!r}")
        if not _is_number(t.learning_rate) or not 0 < t.learning_rate < 10:
            found.append(f"learning_rate must be a number between 0 and 10, got {t.learning_rate!r}")
        if not _is_number(t.validation_split) or not 0 <= t.validation_split < 1:
            found.append(
                f"validation_split must be a fraction in [0, 1), got {t.validation_split!r}")
        if t.optimizer not in OPTIMIZERS:
            found.append(f"unknown optimizer '{t.optimizer}' — known: {', '.join(OPTIMIZERS)}")
        if not _valid_device(t.device):
            found.append(f"device must be {DEVICES_HELP}, got {t.device!r}")
        if not isinstance(t.mixed_precision, bool):
            found.append(f"mixed_precision must be true or false, got {t.mixed_precision!r}")
        found.extend(_hyper_problems(t, self.model.id, ARCHITECTURES))
        if self.dataset.id not in DATASETS and not is_folder_dataset(self.dataset.id):
            found.append(DATASETS.unknown_message(self.dataset.id))
        if self.model.id not in ARCHITECTURES:
            found.append(ARCHITECTURES.unknown_message(self.model.id))
        for part in (self.dataset, self.model):
            if not isinstance(part.options, dict):
                found.append(f"options of '{part.id}' must be an object")
        # Each value against its option's spec: the same ranges the form and the model use.
        if self.model.id in ARCHITECTURES and isinstance(self.model.options, dict):
            found.extend(ARCHITECTURES.get(self.model.id).option_problems(self.model.options))
        if self.dataset.id in DATASETS and isinstance(self.dataset.options, dict):
            found.extend(DATASETS.get(self.dataset.id).option_problems(self.dataset.options))
        return found

    def check(self) -> RunConfig:
        found = self.problems()
        if found:
            raise ConfigError("; ".join(found))
        return self


def _hyper_problems(t: TrainConfig, model_id: str, architectures) -> list[str]:
    from cnnstudio.core.augment import augmentation_problems
    from cnnstudio.core.probes.adversarial_training import adversarial_problems

    found: list[str] = []
    if t.lr_schedule not in LR_SCHEDULES:
        found.append(f"unknown lr_schedule '{t.lr_schedule}' — known: {', '.join(LR_SCHEDULES)}")
    if not _is_number(t.lr_decay) or not 0 < t.lr_decay < 1:
        found.append(f"lr_decay must be a factor between 0 and 1, got {t.lr_decay!r}")
    _positive_int(found, "lr_step_epochs", t.lr_step_epochs)
    _positive_int(found, "lr_patience", t.lr_patience)
    if t.initializer not in INITIALIZERS:
        found.append(f"unknown initializer '{t.initializer}' — known: {', '.join(INITIALIZERS)}")
    if t.dropout is not None and (not _is_number(t.dropout) or not 0 <= t.dropout < 1):
        found.append(f"dropout must be a rate in [0, 1) or null, got {t.dropout!r}")
    if t.batch_norm is not None and not isinstance(t.batch_norm, bool):
        found.append(f"batch_norm must be true, false or null, got {t.batch_norm!r}")
    elif t.batch_norm is not None and model_id in architectures \
            and "batch_norm" not in architectures.get(model_id).defaults:
        found.append(f"batch_norm cannot be switched for '{model_id}': it has no batch-norm "
                     "option (leave it null)")
    for name in ("l1", "l2"):
        value = getattr(t, name)
        if not _is_number(value) or not 0 <= value < 1:
            found.append(f"{name} must be a penalty in [0, 1), got {value!r}")
    if not isinstance(t.early_stopping, bool):
        found.append(f"early_stopping must be true or false, got {t.early_stopping!r}")
    _positive_int(found, "patience", t.patience)
    if not _is_int(t.steps_per_call) or not 0 <= t.steps_per_call <= 1024:
        found.append("steps_per_call must be a whole number from 0 (chosen for the model) to "
                     f"1024, got {t.steps_per_call!r}")
    if not isinstance(t.augmentation, dict):
        found.append(f"augmentation must be an object, got {type(t.augmentation).__name__}")
    else:
        found.extend(augmentation_problems(t.augmentation))
    found.extend(adversarial_problems(t.adversarial))
    return found


def _names(cls) -> set[str]:
    return {f.name for f in fields(cls)}


def _unknown_keys(data: dict, cls, where: str, problems: list[str]) -> None:
    for key in data:
        if key not in _names(cls):
            problems.append(
                f"unknown key '{key}' in {where} — known: {', '.join(sorted(_names(cls)))}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _positive_int(found: list[str], name: str, value) -> None:
    if not _is_int(value) or value <= 0:
        found.append(f"{name} must be a positive integer, got {value!r}")


def _valid_device(device) -> bool:
    if not isinstance(device, str):
        return False
    if device in ("auto", "cpu", "all"):
        return True
    kind, _, index = device.partition(":")
    return kind == "gpu" and index.isdigit()
