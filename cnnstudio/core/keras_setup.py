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


def keras():
    module = sys.modules.get("keras")
    if module is not None and hasattr(module, "Model"):
        return module
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_native_stderr():
        import keras as module
        # The first device query prints CUDA probing errors on machines without a GPU.
        module.backend.backend()
    return module


def backend_name() -> str:
    return keras().backend.backend()
