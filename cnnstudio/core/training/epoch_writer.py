"""Per-epoch checkpoints and probes, written off the training thread.

Saving a ``.keras`` file and recording probe images cost tens of milliseconds
of Python each epoch: several per cent of a small model's training time. The
training thread now only copies the weights and optimizer state to numpy (about
a millisecond for the book's models); a writer thread loads that snapshot into
a shadow copy of the model and does the slow work while the next epoch trains.

At most one epoch is in flight: the next epoch's snapshot waits for it, and
``close()`` waits before the run ends, so a finished, stopped or failed run has
every checkpoint on disk. Only a kill in the few milliseconds after an epoch
can lose that epoch. Where a shadow cannot be made (an unusual model), the same
work runs on the training thread as before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from cnnstudio.core.keras_setup import keras
from cnnstudio.core.training.epoch_order import read_states, write_states

Work = Callable[[object, int], None]      # (model, epoch), e.g. save a checkpoint
WRITER_NICE = 19


def _snapshot(model) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Weights, optimizer state and the random streams' states (dropout, noise)."""
    optimizer = getattr(model, "optimizer", None)
    opt = [np.array(v.numpy()) for v in optimizer.variables] if optimizer is not None else []
    return [np.array(w) for w in model.get_weights()], opt, read_states(model)


def _make_shadow(model):
    """A second model with the same layers, compile settings and optimizer slots."""
    shadow = keras().models.clone_model(model)
    shadow.compile_from_config(model.get_compile_config())
    shadow.optimizer.build(shadow.trainable_variables)
    ours, theirs = shadow.optimizer.variables, model.optimizer.variables
    if len(ours) != len(theirs) or any(a.shape != b.shape for a, b in zip(ours, theirs,
                                                                           strict=True)):
        raise ValueError("optimizer state does not line up")
    return shadow


class _NoShadow(Exception):
    """The model could not be cloned for background writing."""


def _yield_to_training() -> None:
    """The writer thread runs only on CPU time training leaves idle (Linux SCHED_IDLE;
    threads have their own scheduling policy), so on a 2-core machine it fills the gaps
    between training steps instead of taking a core from them. ``wait()`` at the next
    epoch bounds how late it can be: there training waits, the cores idle, and it runs."""
    tid = threading.get_native_id()
    try:
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):      # not Linux: the lowest nice value instead
        try:
            os.setpriority(os.PRIO_PROCESS, tid, WRITER_NICE)
        except (AttributeError, OSError):  # not allowed either: normal priority
            pass


class EpochWriter:
    def __init__(self, work: list[Work], background: bool = True):
        self.work = list(work)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="epoch-writer",
                                        initializer=_yield_to_training) if background \
            else None
        self._pending: Future | None = None
        self._shadow = None
        self._last = (None, 0)

    def __call__(self, model, epoch: int) -> None:     # an epoch hook, on the training thread
        try:
            self.wait()
        except _NoShadow:           # odd model or optimizer: write on this thread from now on
            self._pool.shutdown(wait=False)
            self._pool = None
        if self._pool is None:
            self._run(model, epoch)
            return
        weights, opt, seeds = _snapshot(model)
        self._last = (model, epoch)
        self._pending = self._pool.submit(self._write, model, weights, opt, seeds, epoch)

    def _write(self, model, weights, opt, seeds, epoch: int) -> None:  # the writer thread
        if self._shadow is None:
            # Built here, not on the training thread: cloning reads only the model's config.
            try:
                self._shadow = _make_shadow(model)
            except Exception as exc:
                raise _NoShadow() from exc
        shadow = self._shadow
        shadow.set_weights(weights)
        for variable, value in zip(shadow.optimizer.variables, opt, strict=True):
            variable.assign(value)
        if not write_states(shadow, seeds):
            raise _NoShadow()         # its random streams differ: the checkpoint would lie
        self._run(shadow, epoch)

    def _run(self, model, epoch: int) -> None:
        # Probes that draw from the model's random streams (a GAN's samples) must not move
        # them: training goes on from the state the checkpoint records.
        seeds = read_states(model)
        try:
            for work in self.work:
                work(model, epoch)
        finally:
            write_states(model, seeds)

    def wait(self) -> None:
        """Block until the epoch in flight is written; re-raise its error, if any."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        pending_model, pending_epoch = self._last
        try:
            self.wait()
        except _NoShadow:      # after fit the training model holds that epoch's weights
            self._run(pending_model, pending_epoch)
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
