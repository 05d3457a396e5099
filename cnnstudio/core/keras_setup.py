"""Import Keras quietly and on demand, so ``import cnnstudio`` stays instant."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile


@contextlib.contextmanager
def quiet_native_stderr():
    """Hide what native code writes straight to fd 2 (TensorFlow's oneDNN/CUDA start-up lines).

    TensorFlow 2.21 prints them before absl logging starts, so TF_CPP_MIN_LOG_LEVEL
    cannot silence them. If the block fails, the captured text is shown after all.
    """
    try:
        saved = os.dup(2)
    except OSError:         # no real fd 2 (embedded interpreters): nothing to hide
        yield
        return
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def cpu_threads() -> None:
    """On two cores, one thread per op with two ops at once: the book's small networks train
    1.1–1.3× faster (LeNet-5 at 32 steps per call: 6,400 → 8,100 samples/s; TensorFlow's
    default splits each tiny op over both cores and pays for the hand-off), CIFAR-size ones
    as fast. Must be set before TensorFlow starts; TF_NUM_INTRAOP_THREADS / _INTEROP_ set by
    the user win, and CNNSTUDIO_TF_THREADS=default leaves TensorFlow's own choice."""
    if os.environ.get("CNNSTUDIO_TF_THREADS", "auto") != "auto" or (os.cpu_count() or 1) > 2:
        return
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "2")


def keras():
    module = sys.modules.get("keras")
    if module is not None and hasattr(module, "Model"):
        return module
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cpu_threads()
    with quiet_native_stderr():
        import keras as module
        # The first device query prints CUDA probing errors on machines without a GPU.
        module.backend.backend()
    return module


def backend_name() -> str:
    return keras().backend.backend()
