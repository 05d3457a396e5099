"""Gradients, the one thing ``keras.ops`` cannot give: dispatch to the running backend.

    target, grad_x, grad_extras, extras = value_and_grads(fn, x)

``fn(x)`` returns ``(scalar target, [intermediate tensors])``; the gradient of the
target is returned for ``x`` and for each intermediate (Grad-CAM needs the one
of the last conv layer). Only the backend modules (``autodiff_tf``) know how.
"""

from __future__ import annotations

from cnnstudio.core.errors import StudioError
from cnnstudio.core.keras_setup import backend_name


def value_and_grads(fn, x):
    backend = backend_name()
    if backend == "tensorflow":
        from cnnstudio.core.probes.autodiff_tf import value_and_grads as impl
    else:
        raise StudioError(f"gradient probes (Grad-CAM, saliency, activation maximisation) are not "
                          f"implemented for the {backend} backend yet; use tensorflow")
    return impl(fn, x)
