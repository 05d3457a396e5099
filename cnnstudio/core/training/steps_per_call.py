"""How many training steps run per call into the compiled graph (Keras's
``steps_per_execution``), chosen so that one call takes about ``TARGET_SECONDS``.

On the CPU about a third of a small network's step is dispatch, not arithmetic (LeNet-5 at
batch 32: 9 ms a step one at a time, under 6 ms when 32 run per call). Many steps per call
save that; too many and the window hears from the run, and Stop or Pause act, only every
few seconds. At 50–100 ms a call the curves still get several points a second and a Stop
acts within half a second.

The first guess comes from the model's arithmetic (multiply-adds per sample, measured
against this machine's speed once); after the first epoch the engine measures the real
time per step and trains on with a better count when the guess was off by more than
``RETUNE_FACTOR``. ``TrainConfig.steps_per_call`` > 0 overrides all of it.
"""

from __future__ import annotations

import math
import statistics
import time
from functools import lru_cache

import numpy as np

TARGET_SECONDS = 0.075
MAX_STEPS = 64
RETUNE_FACTOR = 2.0
DISPATCH_SECONDS = 0.0035     # a step's fixed cost on the reference CPU (measured, LeNet-5)


def choose(step_seconds: float, steps_per_epoch: int, divides: bool = False) -> int:
    """Steps per call for a step of ``step_seconds``; ``divides``: the count must divide
    the epoch (an endless input, where a call cannot stop at the epoch's end)."""
    if not step_seconds or step_seconds <= 0 or not math.isfinite(step_seconds):
        return 1
    ideal = max(1, min(MAX_STEPS, int(TARGET_SECONDS / step_seconds), int(steps_per_epoch)))
    return fit_epoch(ideal, steps_per_epoch) if divides else ideal


def fit_epoch(steps: int, steps_per_epoch: int) -> int:
    """The largest count ≤ ``steps`` that divides the epoch: an endless input (batches read
    from files or drawn in Python) has no end for a call to stop at."""
    return max(k for k in range(1, max(1, steps) + 1) if steps_per_epoch % k == 0)


def multiply_adds(model) -> float:
    """Multiply-adds of one sample's forward pass, from the layers' shapes (convolutions,
    transposed convolutions and dense layers: where the arithmetic is)."""
    total = 0.0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        kind = type(layer).__name__
        try:
            out = layer.output.shape if hasattr(layer, "output") else None
        except (AttributeError, ValueError):
            out = None
        kernel = getattr(layer, "kernel", None)
        if kernel is None or out is None:
            continue
        weights = float(np.prod(kernel.shape))
        if kind in ("Dense", "EinsumDense"):
            positions = float(np.prod([d for d in out[1:-1] if d])) if len(out) > 2 else 1.0
            total += weights * positions
        elif "Conv" in kind:
            spatial = [d for d in out[1:-1] if d]
            total += weights * float(np.prod(spatial)) if spatial else weights
    return total


@lru_cache(maxsize=1)
def machine_flops() -> float:
    """Float32 multiply-adds per second this machine's BLAS does (a 256² matmul, best of 5)."""
    a = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - t0)
    return 256 ** 3 / max(best, 1e-6)


def estimate_step_seconds(model, batch_size: int) -> float:
    """A training step ≈ forward + backward ≈ 3 forward passes, plus the fixed dispatch."""
    try:
        work = multiply_adds(model)
    except Exception:           # an unusual model: no estimate, one step per call
        return 0.0
    if work <= 0:
        return 0.0
    return DISPATCH_SECONDS + 3.0 * work * batch_size / machine_flops()


class CallClock:
    """Times each call (on_train_batch_begin → end) of an epoch; the first call of a run
    (tracing) is left out."""

    def __init__(self):
        self.per_step: list[float] = []
        self._t0 = 0.0
        self._first = True

    def begin(self) -> None:
        self._t0 = time.perf_counter()

    def end(self, steps: int) -> None:
        seconds = time.perf_counter() - self._t0
        if self._first:
            self._first = False
            return
        if steps > 0:
            self.per_step.append(seconds / steps)

    def step_seconds(self) -> float:
        return statistics.median(self.per_step) if self.per_step else 0.0


def worth_retuning(current: int, better: int) -> bool:
    return max(current, better) / max(1, min(current, better)) >= RETUNE_FACTOR


def describe(steps: int, step_seconds: float, how: str) -> str:
    """For the Training panel and the run's log: how many, and why."""
    if not step_seconds:
        return f"{steps} step{'s' if steps > 1 else ''} per call ({how})"
    if steps <= 1:
        return (f"1 step per call ({how}): a step takes about {step_seconds * 1000:.0f} ms, "
                "long enough on its own")
    return (f"{steps} steps per call ({how}): a step takes about {step_seconds * 1000:.1f} ms, "
            f"so a call takes about {steps * step_seconds * 1000:.0f} ms — the curves still "
            "move several times a second and Stop acts within half a second, while the "
            "per-step dispatch is paid once per call")
