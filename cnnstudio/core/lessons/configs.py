"""What a lesson's ``preset`` and ``set`` steps do to a RunConfig, and its fast mode.

One code path for the file check (which follows the config through the steps to name
the step that breaks it) and for the player (which puts the result in the window).
"""

from __future__ import annotations

import copy

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig

# Fast mode (tests, a quick look): one epoch on a cut of the data where the dataset can
# be cut. The smallest the option's spec allows, if that is more.
FAST_CUTS = {"limit": 512, "count": 64, "test_count": 24, "max_images": 16}
ZERO_MEANS_ALL = {"max_images"}


def copy_config(config: RunConfig) -> RunConfig:
    return copy.deepcopy(config)


def apply_part(config: RunConfig, part: str, value: dict) -> RunConfig:
    """``config`` with one part of a set step applied (a new object).

    training: the fields given replace the config's. dataset / model: ``{"id": …,
    "options": {…}}`` switches to that dataset or model with exactly those options;
    any other object is options merged into the current ones.
    """
    new = copy_config(config)
    if part == "training":
        for name, field_value in value.items():
            setattr(new.training, name, copy.deepcopy(field_value))
    elif part in ("dataset", "model"):
        cls = DatasetConfig if part == "dataset" else ModelConfig
        if "id" in value:
            setattr(new, part, cls(value["id"], copy.deepcopy(value.get("options", {}))))
        else:
            current = getattr(new, part)
            current.options = {**(current.options or {}), **copy.deepcopy(value)}
    else:
        raise ValueError(f"a set step has no part '{part}'")
    return new


def apply_set(config: RunConfig, fields: dict) -> RunConfig:
    for part in ("dataset", "model", "training"):
        if part in fields:
            config = apply_part(config, part, fields[part])
    return config


def fast_config(config: RunConfig) -> RunConfig:
    """One epoch, and the dataset cut to a few batches where its options allow."""
    from cnnstudio.core.registry import DATASETS

    new = copy_config(config)
    new.training.epochs = 1
    new.training.steps_per_call = 1     # the player's stop after a few batches acts at once
    if new.dataset.id not in DATASETS:
        return new
    specs = {s.name: s for s in DATASETS.get(new.dataset.id).specs}
    options = dict(new.dataset.options or {})
    for name, cut in FAST_CUTS.items():
        spec = specs.get(name)
        if spec is None:
            continue
        cut = max(cut, int(spec.low or 0))
        current = options.get(name, spec.default)
        if current is None or (current == 0 and name in ZERO_MEANS_ALL):
            options[name] = cut
        else:
            options[name] = min(int(current), cut)
    new.dataset.options = options
    return new
