"""Device "all": one run on every GPU of this machine, through the backend's own data parallelism.

- TensorFlow: ``tf.distribute.MirroredStrategy``. The model is built, compiled, loaded and
  fitted inside the strategy's scope (``devices.device_scope`` returns it); each batch is
  split across the replicas and the gradients are all-reduced.
- JAX: ``keras.distribution.DataParallel`` over ``jax.devices()``.

The run's ``batch_size`` is the batch of one replica; the data is batched by the global
batch (per-replica × replicas), which is what the run reports and the curves count.

Which families can: those whose step is Keras's own (classifiers, transfer, autoencoder:
its ``train_step`` only reshapes the data and calls Keras's). Families with their own
``train_step`` compute their own losses, which Keras does not scale by the number of
replicas: under MirroredStrategy their gradients would be summed over replicas (a GAN's two
optimizers would each step replicas× too far). They are refused with a message, not run
wrong. Where only one device is found the run trains without a strategy and says so.
"""

from __future__ import annotations

import contextlib
import dataclasses

from cnnstudio.core.errors import ConfigError

ALL = "all"
# Tasks whose gradient step is Keras's own (loss scaled per replica by Keras).
MIRRORED_TASKS = {"classification", "transfer", "autoencoder"}

_state: dict = {"strategy": None, "replicas": 1, "devices": [], "processes": 1, "rank": 0}


def check(arch, device: str) -> None:
    """Refuse "all" for a family whose own train_step would be wrong across replicas."""
    if device == ALL and arch.task not in MIRRORED_TASKS:
        raise ConfigError(
            f"device 'all' (several GPUs) is not available for {arch.id}: its {arch.task} "
            "training step computes its own losses, which would be summed over the replicas "
            "instead of averaged. Train it on one device (auto, cpu or gpu:N).")


def replica_devices(backend: str) -> list[str]:
    """Every GPU; on a machine without one, the CPU's logical devices (one unless the
    process split it, as the tests do), so a CPU-only run still tells the truth."""
    if backend == "tensorflow":
        from cnnstudio.core.training import distribute_tf

        return distribute_tf.replica_devices()
    if backend == "jax":
        import jax

        return [str(d) for d in jax.devices()]
    return []


def prepare(backend: str) -> tuple[int, list[str]]:
    """Set up the strategy for a run on device "all"; returns (replicas, device names)."""
    names = replica_devices(backend)
    _state.update(strategy=None, replicas=1, devices=names)
    if len(names) < 2:
        return 1, names
    if backend == "tensorflow":
        from cnnstudio.core.training import distribute_tf

        _state["strategy"] = distribute_tf.mirrored(names)
    elif backend == "jax":
        import jax

        from cnnstudio.core.keras_setup import keras

        _state.update(processes=jax.process_count(), rank=jax.process_index())
        distribution = keras().distribution
        # Several processes: each feeds its own share (``shard``), not an auto-sharded tf.data.
        distribution.set_distribution(distribution.DataParallel(
            devices=distribution.list_devices(), auto_shard_dataset=False))
    else:
        raise ConfigError(f"device 'all' needs the TensorFlow or JAX backend, not {backend}")
    _state["replicas"] = len(names)
    return len(names), names


def reset() -> None:
    """Back to one device (the next run in this process may not want all)."""
    if _state["strategy"] is None and _state["replicas"] > 1:      # JAX's global setting
        from cnnstudio.core.keras_setup import keras

        keras().distribution.set_distribution(None)
    _state.update(strategy=None, replicas=1, devices=[], processes=1, rank=0)


def replicas() -> int:
    return _state["replicas"]


def scope():
    """The MirroredStrategy's scope (TensorFlow), else nothing to enter."""
    strategy = _state["strategy"]
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def global_batch(cfg, sink=None):
    """``cfg`` with the global batch, for the data and the run's own counting; the notice says
    how it is made. The stored config keeps the per-replica batch the user chose."""
    n = _state["replicas"]
    if cfg.device != ALL:
        return cfg
    if sink is not None:
        from cnnstudio.core.training.events import Notice

        if n > 1:
            sink(Notice(f"All devices: {n} replicas × batch {cfg.batch_size} per replica = "
                        f"global batch {n * cfg.batch_size} ({', '.join(_state['devices'])})",
                        level="info"))
        else:
            sink(Notice("All devices: only one device found "
                        f"({', '.join(_state['devices']) or 'cpu'}); training on it alone.",
                        level="info"))
    return dataclasses.replace(cfg, batch_size=n * cfg.batch_size) if n > 1 else cfg



def run_plain(work, model, *args):
    """``work(model, *args)`` on one plain copy of ``model``, for what Keras does not split
    across replicas.

    Under MirroredStrategy ``predict_on_batch`` hands every replica the whole batch and
    concatenates their outputs (twice the rows on two replicas), so per-image work after
    training (evaluation.json) runs on a copy made, and used, outside the strategy: scopes
    belong to a thread, so both happen on a fresh one. (Keras's JAX distribution is a
    thread's setting too; there the copy is simply local to this process.)
    """
    if _state["replicas"] < 2:
        return work(model, *args)
    from concurrent.futures import ThreadPoolExecutor

    from cnnstudio.core.keras_setup import keras

    def plain():
        clone = keras().models.clone_model(model)
        clone.set_weights(model.get_weights())
        return work(clone, *args)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(plain).result()


def shard(data, sink=None):
    """Each process of a multi-process run trains on its own share of the arrays.

    Keras's JAX trainer takes what each process feeds as that process's part of the global
    batch; fed the same arrays, every process would feed the same images. So process r keeps
    rows r, r+n, r+2n… (equal counts: up to n−1 images are left out) and batches by the
    global batch / n. Validation is shared out the same way; the test split stays whole on
    every process (its metrics are the same whoever counts them twice). A dataset that comes
    in batches from files is read whole by every process: the same result, no speed-up.
    """
    n, rank = _state["processes"], _state["rank"]
    if n < 2:
        return data
    import numpy as np

    kwargs = dict(data.fit_kwargs)
    x, y = kwargs.get("x"), kwargs.get("y")
    if not isinstance(x, np.ndarray) or "batch_size" not in kwargs:
        if sink is not None:
            from cnnstudio.core.training.events import Notice

            sink(Notice(f"{n} processes: this dataset comes in batches (files or "
                        "augmentation), so every process reads all of it: the same result, "
                        "no speed-up"))
        return data

    def mine(a, count):
        return a[rank::n][:count]

    per = len(x) // n
    kwargs["x"], kwargs["y"] = mine(x, per), mine(y, per)
    kwargs["batch_size"] = max(1, kwargs["batch_size"] // n)
    if isinstance(kwargs.get("validation_data"), tuple):
        xv, yv = kwargs["validation_data"]
        kwargs["validation_data"] = (mine(xv, len(xv) // n), mine(yv, len(yv) // n))
    return dataclasses.replace(data, fit_kwargs=kwargs, num_train=per * n,
                               steps_per_epoch=-(-per // kwargs["batch_size"]))


def processes() -> int:
    return _state["processes"]
