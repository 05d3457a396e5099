"""What every benchmark shares: rounds, median and spread, the machine, goal lines, the JSON line.

A benchmark runs as ``python benchmarks/<name>.py``; Python puts the script's own folder
first on ``sys.path``, so ``from _common import …`` finds this file. Nothing here imports
TensorFlow or Keras: versions come from the installed packages' metadata (or from the
module itself when the benchmark has already imported it).

- ``add_rounds(parser, default)``: the ``--rounds N`` option (N ≥ 1) of a benchmark that
  times something;
- ``summary(values)``: ``{"median", "min", "max", "values"}``; ``spread(values)``:
  ``[min, max]``; ``median_index(values)``: which round is the median one;
- ``repeat_ms(fn, rounds, warmup=1)``: the milliseconds of ``rounds`` calls after
  ``warmup`` untimed ones;
- ``goal(name, value, op, target)``: prints "met / NOT met / skipped  name: …", returns
  the verdict (``None`` when a side is missing);
- ``machine()``: the CPU model, logical cores, platform, Python, TensorFlow and Keras;
- ``emit(name, figures)``: the last line of stdout, one JSON object: ``benchmark`` (the
  script's stem: pass its name or ``__file__``), the figures, then ``machine``.
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
SHOWN = {"<=": "≤", ">=": "≥", "<": "<", ">": ">"}


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"at least 1, got {value}")
    return value


def add_rounds(parser: argparse.ArgumentParser, default: int, what: str = "timed rounds") -> None:
    """``--rounds N``: how many times the benchmark measures; its figures are medians."""
    parser.add_argument("--rounds", type=_at_least_one, default=default,
                        help=f"{what}; figures are medians, with their spread "
                             f"(default {default})")


def summary(values: Iterable[float], digits: int | None = None) -> dict:
    """Median, min, max and the values themselves (rounded to ``digits`` if given)."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("summary of no values")
    out = {"median": statistics.median(values), "min": min(values), "max": max(values),
           "values": values}
    if digits is not None:
        out = {k: [round(v, digits) for v in x] if k == "values" else round(x, digits)
               for k, x in out.items()}
    return out


def spread(values: Iterable[float], digits: int | None = None) -> list[float]:
    """``[min, max]`` (rounded to ``digits`` if given)."""
    s = summary(values, digits)
    return [s["min"], s["max"]]


def median_index(values: Iterable[float]) -> int:
    """The index of the median value (the upper of the middle two for an even count): the
    round whose other figures go with the median one."""
    values = list(values)
    if not values:
        raise ValueError("median of no values")
    return sorted(range(len(values)), key=values.__getitem__)[len(values) // 2]


def repeat_ms(fn: Callable[[], object], rounds: int, warmup: int = 1) -> list[float]:
    """Milliseconds of each of ``rounds`` calls of ``fn``, after ``warmup`` untimed calls
    (the first call builds cached models and traces graphs)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    return times


def goal(name: str, value, op: str, target, unit: str = "") -> bool | None:
    """Print one goal line and return whether ``value op target`` holds (``None``: skipped,
    a side is missing). ``op`` is one of ``<=``, ``<``, ``>=``, ``>``."""
    if value is None or target is None:
        print(f"{'skipped':<8} {name}", flush=True)
        return None
    ok = bool(OPS[op](value, target))
    print(f"{'met' if ok else 'NOT met':<8} {name}: {_shown(value)}{unit} "
          f"(goal {SHOWN[op]} {_shown(target)}{unit})", flush=True)
    return ok


def _shown(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware", "cpu model") \
                        and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    module = sys.modules.get(package)
    version = getattr(module, "__version__", None)
    if version:
        return str(version)
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _keras_backend() -> str | None:
    module = sys.modules.get("keras")
    if module is not None and hasattr(module, "backend"):
        try:
            return module.backend.backend()
        except Exception:        # a half-imported Keras: say nothing rather than fail
            return None
    return os.environ.get("KERAS_BACKEND")


def machine() -> dict:
    """Where the figures were measured: CPU model, logical cores, OS, Python, TF, Keras."""
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "arch": platform.machine(),
            "platform": platform.platform(), "python": platform.python_version(),
            "tensorflow": _version("tensorflow"), "keras": _version("keras"),
            "keras_backend": _keras_backend()}


def emit(name: str, figures: dict) -> dict:
    """Print the figures as one JSON object, the last line of stdout, with ``benchmark``
    (the stem of ``name``: a script's name or ``__file__``) first and ``machine`` last."""
    if "machine" in figures:
        raise ValueError("emit adds 'machine' itself")
    line = {"benchmark": Path(name).stem, **figures, "machine": machine()}
    line["benchmark"] = Path(name).stem
    sys.stdout.flush()
    print(json.dumps(line), flush=True)
    return line
