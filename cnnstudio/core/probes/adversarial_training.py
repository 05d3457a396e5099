"""Adversarial training (Goodfellow et al. 2015; Kurakin et al. 2017): in every training
batch a share of the images is replaced by its FGSM version, made inside the compiled
train step from the weights of that very step.

    TrainConfig.adversarial = {"eps": 0.1, "ratio": 0.5}     # {} (the default): off

``eps`` is on the 0..1 scale like the attacks' (0.1 → 25.5 grey levels of 0..255);
``ratio`` is the share of each batch replaced (0.5: half clean, half adversarial, as
Kurakin et al. did). The first ⌈ratio·n⌉ images of each batch are the ones replaced: the
batches are shuffled, so over the epochs every image is both. The step draws nothing at
random, so a resumed run repeats an uninterrupted one to the bit, at any steps per call.

The attack's forward pass runs in inference mode (``training=False``): dropout off and
batch norm's moving statistics untouched, so only the real training pass updates them.
The loss and its metrics are then the class's own step's, on the mixed batch: the
training accuracy shown is that of the mixed batches, the validation's stays clean.
"""

from __future__ import annotations

import math
from typing import Any

DEFAULTS = {"eps": 0.1, "ratio": 0.5}
LIMITS = {"eps": "a fraction of the 0..255 range, above 0 and at most 1",
          "ratio": "the share of each batch attacked, above 0 and at most 1"}
_MARK = "_studio_adversarial"      # the model attribute saying which settings are installed


def adversarial_problems(adv: Any) -> list[str]:
    """One sentence per mistake in a TrainConfig.adversarial value (empty when valid)."""
    if not isinstance(adv, dict):
        return [f"adversarial must be an object such as {{\"eps\": 0.1, \"ratio\": 0.5}} "
                f"(or {{}} for off), got {type(adv).__name__}"]
    found = []
    for key, value in adv.items():
        if key not in DEFAULTS:
            found.append(f"unknown adversarial option '{key}' — known: eps, ratio")
        elif isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value) or not 0 < value <= 1:
            found.append(f"adversarial {key} must be {LIMITS[key]}, got {value!r}")
    return found


def is_active(adv: dict | None) -> bool:
    return bool(adv) and isinstance(adv, dict)


def settings(adv: dict) -> tuple[float, float]:
    """(ε on the 0..1 scale, ratio), the defaults filling what is not given."""
    values = {**DEFAULTS, **(adv or {})}
    return float(values["eps"]), float(values["ratio"])


def describe(adv: dict) -> str:
    eps, ratio = settings(adv)
    return (f"adversarial training: {ratio:.0%} of each batch replaced by its FGSM version "
            f"at ε = {eps:g} (≤ {int(eps * 255)} grey levels)")


def install(model, adv: dict) -> bool:
    """Make ``model``'s train step mix FGSM examples into each batch; True when it changed
    (a compiled train function made before is then dropped, so ``fit`` traces the new one).
    Installing the same settings twice changes nothing."""
    from cnnstudio.core.errors import ConfigError
    from cnnstudio.core.keras_setup import backend_name

    eps, ratio = settings(adv)
    if getattr(model, _MARK, None) == (eps, ratio):
        return False
    if backend_name() != "tensorflow":
        raise ConfigError(f"adversarial training is implemented for the tensorflow backend, "
                          f"not {backend_name()}")
    inputs = getattr(model, "inputs", None)
    if inputs is not None and len(inputs) != 1:
        raise ConfigError("adversarial training needs a model with one image input")
    base = type(model).train_step          # the class's own step (Keras's, or a family's)
    from cnnstudio.core.probes.adversarial_step_tf import make_step

    step = make_step(model, base, eps, ratio)
    object.__setattr__(model, "train_step", step)   # an instance attribute: never saved
    object.__setattr__(model, _MARK, (eps, ratio))
    model.train_function = None
    return True


def make_callbacks(adv: dict, data=None) -> list:
    """The Keras callback that installs the step when ``fit`` starts, on a fresh model and on
    one loaded from a checkpoint alike; none when off or when ``fit`` gets no images (a
    transfer head trained on cached bottleneck features: it is said once, as a notice)."""
    if not is_active(adv):
        return []
    extra = getattr(data, "extra", None) or {}
    if "bottleneck" in extra:
        sink = extra.get("sink")
        if sink is not None:
            from cnnstudio.core.training.events import Notice

            sink(Notice("adversarial training is off for this run: the head trains on cached "
                        "bottleneck features, not on images (fine-tune the base to use it)"))
        return []
    from cnnstudio.core.keras_setup import keras

    class AdversarialTraining(keras().callbacks.Callback):
        # set_model runs when fit builds its callback list, before it traces the train step.
        def set_model(self, model):
            super().set_model(model)
            install(model, adv)

    return [AdversarialTraining()]


def label(config) -> str:
    """How a run was trained, short enough for a curve's legend."""
    adv = config.training.adversarial
    if not is_active(adv):
        return "no adversarial training"
    eps, ratio = settings(adv)
    return f"FGSM-trained, ε {eps:g} on {ratio:.0%}"
