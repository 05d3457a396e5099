"""Keras callbacks that turn ``fit`` into studio events and honour the run's controls."""

from __future__ import annotations

import math
import time

import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.training import steps_per_call as spc
from cnnstudio.core.training.control import RunControl
from cnnstudio.core.training.events import BatchEnd, EpochEnd
from cnnstudio.core.training.steps_per_call import CallClock

Callback = keras().callbacks.Callback


class Diverged(StudioError):
    """A loss or the weights became NaN or infinite: the run stops and says where."""
    keeps_checkpoints = True            # the reason says which checkpoint is the last good one


def check_logs(logs: dict, epoch: int, batch: int) -> None:
    """Keras's TerminateOnNaN, saying which number went bad and when."""
    for key, value in (logs or {}).items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if not math.isfinite(number):
            raise Diverged(f"{key} became {number} at epoch {epoch}, batch {batch}: training "
                           "diverged (a learning rate too high, or bad numbers in the data)")


def check_weights(model, epoch: int) -> None:
    """Before a checkpoint: a model with NaN or infinite weights is never saved."""
    bad = sum(int(np.size(w) - np.isfinite(w).sum()) for w in model.get_weights())
    if bad:
        raise Diverged(f"{bad:,} weights became NaN or infinite by the end of epoch {epoch}: "
                       "training diverged (a learning rate too high, or bad numbers in the "
                       "data)")


class StudioCallback(Callback):
    """Emits BatchEnd/EpochEnd, serves queued requests, pauses, and stops at the next batch.

    ``epoch_hooks`` run after each *complete* epoch (checkpoints, probes); an epoch
    cut short by Stop is not checkpointed, so a resume redoes it whole.
    """

    def __init__(self, sink, control: RunControl, steps: int, epochs: int, batch_size: int,
                 num_train: int, epoch_hooks=()):
        super().__init__()
        self.sink, self.control = sink, control
        self.steps, self.epochs, self.batch_size = steps, epochs, batch_size
        self.num_train = num_train
        self.epoch_hooks = list(epoch_hooks)
        self.completed_epochs = 0
        self.trained_samples = 0
        self.train_seconds = 0.0
        self._epoch_start = self._batch_clock = 0.0
        self._steps_done = 0
        self._paused_for = 0.0
        self.epoch_index = 0
        self._call_begin = 0
        self.clock = CallClock()        # seconds per step, for choosing the steps per call

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_index = epoch
        self._epoch_start = self._batch_clock = time.perf_counter()
        self._steps_done = 0
        self._paused_for = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._call_begin = batch
        self.clock.begin()

    def on_train_batch_end(self, batch, logs=None):
        # Several steps per call: Keras reports once per call, with the call's last step
        # (which overshoots the epoch's end on its last, shorter call).
        self._steps_done = min(batch + 1, self.steps)
        self.clock.end(self._steps_done - self._call_begin)
        now = time.perf_counter()
        elapsed = now - self._epoch_start - self._paused_for
        seen = min(self._steps_done * self.batch_size, self.num_train)
        step = self._steps_done
        self.sink(BatchEnd(self.epoch_index + 1, step, self.steps, dict(logs or {}),
                           seen / elapsed if elapsed > 0 else 0.0))
        check_logs(logs, self.epoch_index + 1, step)     # before a NaN reaches a checkpoint
        self.control.serve(self.model)
        if self.control.paused:
            t0 = time.perf_counter()
            self.control.wait_while_paused(self.model)
            self._paused_for += time.perf_counter() - t0
        if self.control.stop_requested:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        complete = self._steps_done >= self.steps
        seconds = time.perf_counter() - self._epoch_start - self._paused_for
        samples = min(self._steps_done * self.batch_size, self.num_train)
        self.trained_samples += samples
        self.train_seconds += seconds
        if not complete:
            return
        self.completed_epochs = epoch + 1
        self.sink(EpochEnd(epoch + 1, self.epochs, dict(logs or {}), seconds,
                           samples / seconds if seconds > 0 else 0.0))
        for hook in self.epoch_hooks:
            hook(self.model, epoch + 1)


class Retune(Callback):
    """After the first epoch of a fit, when the measured step time calls for a steps-per-call
    count at least RETUNE_FACTOR away from the guess, end this fit: the engine goes on with
    the better count (a new graph for it) from the next epoch."""

    def __init__(self, studio: StudioCallback, current: int, divides: bool, enabled: bool):
        super().__init__()
        self.studio, self.current, self.divides = studio, current, divides
        self.enabled = enabled
        self.better: int | None = None
        self.step_seconds = 0.0

    def on_epoch_end(self, epoch, logs=None):
        if not self.enabled or epoch + 1 >= self.studio.epochs:
            return
        self.enabled = False                      # once per run
        self.step_seconds = self.studio.clock.step_seconds()
        if not self.step_seconds:                 # one call an epoch: nothing measured
            return
        better = spc.choose(self.step_seconds, self.studio.steps, self.divides)
        if spc.worth_retuning(self.current, better) and not self.model.stop_training:
            self.better = better
            self.model.stop_training = True


class CarryAcrossRefit(Callback):
    """Keeps the plateau and early-stopping callbacks' counters when a re-tune starts a
    second ``fit``: Keras resets them in ``on_train_begin``, which would forget the first
    epoch's best value (and its best weights) and restart the patience. Placed after them,
    so its ``on_train_begin`` puts back what ``hold`` saw."""

    STATE = ("wait", "best", "best_weights", "best_epoch", "cooldown_counter", "stopped_epoch")

    def __init__(self, callbacks):
        super().__init__()
        self.callbacks = list(callbacks)
        self.saved: list[dict] | None = None

    def hold(self) -> None:
        self.saved = [{name: getattr(cb, name) for name in self.STATE if hasattr(cb, name)}
                      for cb in self.callbacks]

    def on_train_begin(self, logs=None):
        for cb, state in zip(self.callbacks, self.saved or (), strict=False):
            for name, value in state.items():
                setattr(cb, name, value)
        self.saved = None
