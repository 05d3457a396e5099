"""SWEEP.json: a base RunConfig, the settings to vary, and the metric that ranks the trials.

    {"base": {...RunConfig...},
     "grid": {"training.learning_rate": [0.01, 0.001], "training.batch_size": [32, 64]},
     "metric": "val_accuracy"}                          # every combination: 4 trials

    {"base": {...}, "random": {"trials": 8, "seed": 0,
     "space": {"training.learning_rate": {"min": 1e-4, "max": 1e-1, "log": true},
               "model.options.units": [16, 32, 64]}},
     "metric": "val_loss", "mode": "min"}              # 8 draws

A setting is a dotted path into the RunConfig (``training.*``, ``model.options.*``,
``dataset.options.*``, ``seed``…); every trial's config is checked before any trial runs.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnstudio.core.config import RunConfig
from cnnstudio.core.errors import ConfigError

MAX_TRIALS = 1000


@dataclass
class Sweep:
    base: dict[str, Any]
    trials: list[dict[str, Any]]          # the settings of each trial, in order
    metric: str = "val_accuracy"
    mode: str = "max"
    id: str = ""
    keys: list[str] = field(default_factory=list)

    def config(self, index: int) -> RunConfig:
        data = copy.deepcopy(self.base)
        for key, value in self.trials[index].items():
            _set(data, key, value)
        config = RunConfig.from_dict(data)
        config.name = f"sweep-{self.id}-t{index + 1:02d}"
        return config


def _set(data: dict, key: str, value) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"sweep setting {key!r}: {part!r} is not a group of settings")
        node = child
    node[parts[-1]] = value


def _draw(rng: random.Random, key: str, space) -> Any:
    if isinstance(space, list) and space:
        return rng.choice(space)
    if isinstance(space, dict) and {"min", "max"} <= set(space):
        low, high = space["min"], space["max"]
        if not all(isinstance(v, int | float) for v in (low, high)) or not low < high:
            raise ConfigError(f"sweep setting {key!r}: needs numbers with min < max")
        if space.get("log"):
            if low <= 0:
                raise ConfigError(f"sweep setting {key!r}: a log range needs min > 0")
            value = math.exp(rng.uniform(math.log(low), math.log(high)))
        else:
            value = rng.uniform(low, high)
        return round(value) if space.get("int") else float(f"{value:.6g}")
    raise ConfigError(f"sweep setting {key!r}: give a list of values or "
                      '{"min": …, "max": …[, "log": true][, "int": true]}')


def parse(data: dict[str, Any]) -> Sweep:
    if not isinstance(data, dict) or not isinstance(data.get("base"), dict):
        raise ConfigError('a sweep needs "base": a RunConfig object')
    has_grid, has_random = "grid" in data, "random" in data
    if has_grid == has_random:
        raise ConfigError('a sweep needs exactly one of "grid" or "random"')
    if has_grid:
        grid = data["grid"]
        if not isinstance(grid, dict) or not grid or not all(
                isinstance(v, list) and v for v in grid.values()):
            raise ConfigError('"grid" maps each setting to a non-empty list of values')
        keys = list(grid)
        count = math.prod(len(v) for v in grid.values())
        if count > MAX_TRIALS:
            raise ConfigError(f"the grid has {count} combinations; at most {MAX_TRIALS}")
        trials = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]
    else:
        spec = data["random"]
        if not isinstance(spec, dict) or not isinstance(spec.get("space"), dict) \
                or not spec["space"]:
            raise ConfigError('"random" needs "space": {setting: values or a range}')
        count = spec.get("trials")
        if not isinstance(count, int) or not 0 < count <= MAX_TRIALS:
            raise ConfigError(f'"random" needs "trials": a whole number 1 … {MAX_TRIALS}')
        rng = random.Random(spec.get("seed", 0))
        keys = list(spec["space"])
        trials = [{k: _draw(rng, k, spec["space"][k]) for k in keys} for _ in range(count)]
    mode = data.get("mode", "min" if "loss" in str(data.get("metric", "")) else "max")
    if mode not in ("min", "max"):
        raise ConfigError(f'"mode" must be "min" or "max", got {mode!r}')
    text = json.dumps(data, sort_keys=True, default=str)
    sweep = Sweep(data["base"], trials, str(data.get("metric", "val_accuracy")), mode,
                  hashlib.sha1(text.encode()).hexdigest()[:8], keys)
    for i in range(len(trials)):         # every trial's config checked before any runs
        try:
            config = sweep.config(i).check()
        except ConfigError as exc:
            raise ConfigError(f"sweep trial {i + 1} ({trials[i]}): {exc}") from None
        _check_metric(sweep.metric, config.model.id)     # a misspelt metric: now, not after
    return sweep


def measures(model_id: str) -> list[str]:
    """What a run of ``model_id`` logs per epoch, by its task's profile (and ``val_`` twins
    where the task validates)."""
    from cnnstudio.core.families.profile import arch_profile

    profile = arch_profile(model_id)
    names = []
    for plot in profile.plots:
        for series in plot.series:
            names.append(series.key)
            if plot.validation:
                names.append("val_" + series.key)
    return list(dict.fromkeys([*names, profile.best_metric]))


def _check_metric(metric: str, model_id: str) -> None:
    import difflib

    known = measures(model_id)
    if metric not in known:
        close = difflib.get_close_matches(metric, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(f"metric '{metric}' is not something a {model_id} run logs{hint} — "
                          f"known: {', '.join(known)}")


def load(path: str | Path) -> Sweep:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no sweep file {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the sweep file {path}: {exc}") from None
    return parse(data)
