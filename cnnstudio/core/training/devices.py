"""Which devices the active Keras backend can use, said plainly: never a silent CPU fallback."""

from __future__ import annotations

import contextlib

from cnnstudio.core.errors import ConfigError
from cnnstudio.core.keras_setup import backend_name, keras, quiet_native_stderr
from cnnstudio.core.training.events import DeviceReport

CPU_ONLY = "No GPU found: training runs on the CPU (slower; fine for the book's small models)."


def gpu_names() -> list[str]:
    backend = backend_name()
    with quiet_native_stderr():
        if backend == "tensorflow":
            from cnnstudio.core.training import tf_runtime

            return tf_runtime.gpu_names()
        if backend == "jax":
            import jax

            return [str(d.device_kind) for d in jax.devices() if d.platform == "gpu"]
        if backend == "torch":
            import torch

            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def prepare(device: str = "auto", mixed_precision: bool = False) -> DeviceReport:
    """Configure the backend for a run and report what it will use."""
    backend = backend_name()
    if backend == "tensorflow":
        from cnnstudio.core.training import tf_runtime

        with quiet_native_stderr():
            tf_runtime.enable_memory_growth()
    gpus = gpu_names()
    from cnnstudio.core.training import distribute

    distribute.reset()
    if device == distribute.ALL:          # MirroredStrategy / DataParallel over every device
        replicas, names = distribute.prepare(backend)
        using = f"all ({replicas} replica{'s' if replicas > 1 else ''}: {', '.join(names)})"
    elif device.startswith("gpu"):
        index = int(device.partition(":")[2] or 0)
        if index >= len(gpus):
            found = f"{len(gpus)} GPU(s)" if gpus else "no GPU"
            raise ConfigError(f"device {device} asked for, but {backend} sees {found}")
        using = f"gpu:{index} ({gpus[index]})"
    elif device == "cpu" or not gpus:
        using = "cpu"
    else:
        using = f"gpu:0 ({gpus[0]})"
    policy = "mixed_float16" if mixed_precision else "float32"
    keras().mixed_precision.set_global_policy(policy)
    return DeviceReport(backend=backend, using=using, gpus=gpus, mixed_precision=mixed_precision)


def device_scope(report: DeviceReport):
    """A context that places the run on the chosen device."""
    if report.using.startswith("all"):
        from cnnstudio.core.training import distribute

        return distribute.scope()
    if report.using == "cpu" and report.gpus:
        return keras().device("cpu:0")
    if report.using.startswith("gpu:"):
        return keras().device(report.using.split(" ")[0])
    return contextlib.nullcontext()
