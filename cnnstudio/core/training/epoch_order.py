"""What a resumed run needs to repeat the uninterrupted one to the bit.

Three kinds of randomness change from epoch to epoch, and none of it is in a ``.keras``
checkpoint:

- the data order. Keras shuffles arrays with a stateful op whose state starts afresh in
  each ``fit``, so a resumed run would see epoch 1's order again. Here the order of epoch
  ``e`` is a function of (seed, e) alone: arrays become a tf.data pipeline with a
  stateless shuffle per epoch, and the studio's PyDatasets (files, augmentation, the
  semi-supervised GAN's batches) draw their order from ``epoch_rng(seed, e)``;
- the model's own random streams (dropout, GAN noise, the RAM's sampled locations, the
  captioner's scheduled sampling): Keras SeedGenerator states, which ``save_checkpoint``
  skips. They are saved beside each checkpoint (``epoch-NNNN.rng.npz``) and put back;
- NumPy's and Python's global generators, for any code that uses them: reseeded from
  (seed, e) at the start of each epoch.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import numpy as np

from cnnstudio.core.keras_setup import backend_name, keras


def epoch_rng(seed: int, epoch: int, stream: int = 0) -> np.random.Generator:
    """The generator for epoch ``epoch`` (0-based) of a run seeded ``seed``."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, int(epoch), int(stream)])


class EpochOrdered:
    """For PyDatasets whose batches depend on the epoch (order, augmentation draws).

    ``draw(epoch)`` returns what epoch ``epoch`` needs (an order); ``locate(index)`` says
    which epoch and position a batch index is. Used alone (evaluation, tests) the object
    counts epochs with ``on_epoch_end``. Under the engine, ``start_at(initial_epoch)`` makes
    it endless: index i is batch i % steps of epoch initial_epoch + i // steps. Keras's
    workers fetch ahead across epoch ends; an index that names its epoch cannot be read
    with the wrong order, whatever the threads' timing.
    """

    seed = 0
    epoch = 0
    _start: int | None = None

    def draw(self, epoch: int):
        raise NotImplementedError

    def rng(self, epoch: int, stream: int = 0) -> np.random.Generator:
        return epoch_rng(self.seed, epoch, stream)

    def locate(self, index: int):
        """(epoch, position in the epoch, that epoch's draw)."""
        if self._start is None:
            epoch, pos = self.epoch, int(index)
        else:
            epoch, pos = self._start + int(index) // len(self), int(index) % len(self)
        return epoch, pos, self.drawn(epoch)

    def drawn(self, epoch: int):
        lock = self.__dict__.setdefault("_draw_lock", threading.Lock())
        with lock:
            cache = self.__dict__.setdefault("_draws", {})
            if epoch not in cache:
                cache[epoch] = self.draw(epoch)
                for old in [e for e in cache if e < epoch - 2]:
                    del cache[old]
            return cache[epoch]

    def forget_draws(self) -> None:
        """What ``draw`` depends on changed (the SSGAN's labelled images were chosen)."""
        self.__dict__["_draws"] = {}

    def start_at(self, epoch: int) -> None:
        self._start = int(epoch)

    @property
    def num_batches(self):
        return None if self._start is not None else len(self)

    def on_epoch_end(self):
        if self._start is None:
            self.epoch += 1


class Inputs:
    """``fit``'s data arguments for a run, and the hook that tells them the epoch."""

    def __init__(self, kwargs: dict, epoch_var=None, endless: bool = False):
        self.kwargs, self._epoch_var, self.endless = kwargs, epoch_var, endless

    def set_epoch(self, epoch: int) -> None:
        if self._epoch_var is not None:
            self._epoch_var.assign(int(epoch))


def fit_inputs(kwargs: dict, seed: int, initial_epoch: int) -> Inputs:
    """``fit``'s data arguments with an order that depends only on (seed, epoch).

    Shuffled arrays become a tf.data pipeline on the TensorFlow backend (the same gather
    Keras's own array adapter runs, so no speed is lost), one epoch per iteration: the
    last call of an epoch stops at its end whatever the steps per call. Other backends
    keep Keras's shuffle, and their resumed runs match the first epoch only."""
    x = kwargs.get("x")
    if isinstance(x, EpochOrdered):
        x.start_at(initial_epoch)
        # It orders itself (shuffle=False: fit's default would warn); fit counts the epochs.
        return Inputs({**kwargs, "shuffle": False, "steps_per_epoch": len(x)}, endless=True)
    if not kwargs.get("shuffle") or backend_name() != "tensorflow" or not _arrays(x):
        return Inputs(kwargs)
    from cnnstudio.core.training import distribute

    if distribute.processes() > 1:        # each process's share is fed as Keras expects
        return Inputs(kwargs)
    from cnnstudio.core.training.epoch_order_tf import ordered_arrays

    out = {k: v for k, v in kwargs.items() if k not in ("x", "y", "batch_size")}
    out["shuffle"] = False                # the pipeline shuffles; fit's default would warn
    batch_size = int(kwargs.get("batch_size") or 32)
    out["x"], epoch = ordered_arrays(x, kwargs.get("y"), len(_first(x)), batch_size, seed,
                                     initial_epoch)
    return Inputs(out, epoch)


def _first(x):
    if isinstance(x, dict):
        return next(iter(x.values()))
    if isinstance(x, (tuple, list)):
        return _first(x[0])
    return x


def _arrays(x) -> bool:
    if isinstance(x, dict):
        return bool(x) and all(_arrays(v) for v in x.values())
    if isinstance(x, (tuple, list)):
        return bool(x) and all(_arrays(v) for v in x)
    return isinstance(x, np.ndarray)


# -- the model's random streams ---------------------------------------------------------
def seed_states(model) -> list:
    """The state variables of every Keras SeedGenerator the model owns, in a fixed order."""
    states, seen = [], set()
    for layer in model._flatten_layers(include_self=True, recursive=True):
        for generator in getattr(layer, "_seed_generators", ()):
            if id(generator.state) not in seen:
                seen.add(id(generator.state))
                states.append(generator.state)
    return states


def read_states(model) -> list[np.ndarray]:
    return [np.array(state.numpy()) for state in seed_states(model)]


def write_states(model, values: list[np.ndarray]) -> bool:
    """Put saved states back; False (nothing changed) when they do not fit this model."""
    states = seed_states(model)
    if len(states) != len(values) or any(tuple(s.shape) != v.shape
                                         for s, v in zip(states, values, strict=True)):
        return False
    for state, value in zip(states, values, strict=True):
        state.assign(value)
    return True


def state_path(checkpoint: Path) -> Path:
    return checkpoint.with_name(checkpoint.name.removesuffix(".keras") + ".rng.npz")


def save_state(values: list[np.ndarray], checkpoint: Path) -> None:
    from cnnstudio.core.probes.store import save_npz

    save_npz(state_path(checkpoint), **{f"s{i}": v for i, v in enumerate(values)})


def load_state(checkpoint: Path) -> list[np.ndarray] | None:
    path = state_path(checkpoint)
    try:
        with np.load(path) as stored:
            return [stored[f"s{i}"] for i in range(len(stored.files))]
    except (OSError, ValueError, KeyError):
        return None


def reseed_globals(seed: int, epoch: int) -> None:
    generator = epoch_rng(seed, epoch, 1)
    random.seed(int(generator.integers(1 << 31)))
    np.random.seed(int(generator.integers(1 << 31)))


class EpochSeeds(keras().callbacks.Callback):
    """NumPy's and Python's global generators start each epoch from (seed, epoch), and the
    ordered inputs learn which epoch it is before its data is read."""

    def __init__(self, seed: int, inputs: Inputs | None = None):
        super().__init__()
        self.seed, self.inputs = int(seed), inputs

    def on_epoch_begin(self, epoch, logs=None):
        reseed_globals(self.seed, epoch)
        if self.inputs is not None:
            self.inputs.set_epoch(epoch)
