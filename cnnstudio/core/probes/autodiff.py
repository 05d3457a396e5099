"""Gradients, the one thing ``keras.ops`` cannot give: dispatch to the running backend.

    grads = compiled_value_and_grads(fn)        # once per model (and layer): it traces
    target, grad_x, grad_extras, extras, aux = grads(x, arg)

``fn(x, arg)`` returns ``(scalar target, [intermediate tensors], aux)``; the gradient of
the target is returned for ``x`` and for each intermediate (Grad-CAM needs the one of the
last conv layer). Only the backend modules (``autodiff_tf``) know how.
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
    than an eager tape for a small model, which an attack calls once per step."""
    return _backend_module().compiled_input_gradient(loss)


def compiled_value_and_grads(fn):
    """``fn(x, arg)`` → ``(scalar target, [intermediates], aux)`` → a compiled
    ``call(x, arg)`` giving ``(target, grad_x, grad_intermediates, intermediates, aux)``
    (numpy). ``arg`` is a small int vector (the class, the unit) so one trace serves every
    call. Build it once per model and keep it: the probes must not use eager tapes (see
    the backend module on why)."""
    return _backend_module().compiled_value_and_grads(fn)
