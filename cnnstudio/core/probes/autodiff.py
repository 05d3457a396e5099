"""Gradients, the one thing ``keras.ops`` cannot give: dispatch to the running backend.

    target, grad_x, grad_extras, extras = value_and_grads(fn, x)

``fn(x)`` returns ``(scalar target, [intermediate tensors])``; the gradient of the
target is returned for ``x`` and for each intermediate (Grad-CAM needs the one
of the last conv layer). Only the backend modules (``autodiff_tf``) know how.
"""

from __future__ import annotations

from cnnstudio.core.errors import StudioError
from cnnstudio.core.keras_setup import backend_name


def _backend_module():
    backend = backend_name()
    if backend == "tensorflow":
        from cnnstudio.core.probes import autodiff_tf

        return autodiff_tf
    raise StudioError(f"gradient probes (Grad-CAM, saliency, activation maximisation) are not "
                      f"implemented for the {backend} backend yet; use tensorflow")


def compiled_input_gradient(loss):
    """``loss(x, classes)`` → a compiled ``grad(x, classes)`` (numpy in, numpy out): the
    gradient of the scalar loss w.r.t. ``x``, traced once per input shape. Ten times faster
    than ``value_and_grads`` for a small model, which an attack calls once per step."""
    return _backend_module().compiled_input_gradient(loss)


def value_and_grads(fn, x):
    return _backend_module().value_and_grads(fn, x)
