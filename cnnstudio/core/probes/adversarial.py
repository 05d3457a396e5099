"""Adversarial examples: the smallest pixel changes that make a classifier change its mind.

    found = attack_image(model, image, eps=0.1)                   # FGSM, untargeted
    found = attack_image(model, image, eps=0.1, method="pgd", target=3)
    found.image, found.perturbation, found.before, found.after    # uint8, int16, probs, probs

FGSM (Goodfellow et al. 2015) takes one step of ε in the direction of the sign of the
loss gradient w.r.t. the pixels; PGD (Madry et al. 2018) takes several smaller ones, each
projected back to the ε-ball around the image. Untargeted attacks push the loss of the
label up; a targeted one pulls the loss of the target class down. Images are raw pixels
(0..255, what the studio's models take); ε is given on the 0..1 scale (ε = 0.1 → up to
25.5 grey levels per pixel). Call these on the thread that owns the model.
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass

import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.probes.autodiff import compiled_input_gradient
from cnnstudio.core.probes.feature_maps import as_batch

METHODS = ("fgsm", "pgd")
PGD_STEPS = 10


class _Scores:
    """images → class log-scores, built once per model. Logits where the model ends in a
    Dense softmax (the loss on saturated probabilities has no gradient left: a confident
    model would look unfoolable), else the log of its probabilities."""

    _cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    _lock = threading.Lock()

    def __init__(self, model):
        self.model, self.head = model, None
        last = model.layers[-1] if getattr(model, "layers", None) else None
        activation = getattr(getattr(last, "activation", None), "__name__", "")
        self.softmax_out = activation == "softmax"
        try:
            if self.softmax_out and type(last).__name__ == "Dense":
                inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
                self.net = keras().Model(inputs, last.input, name="adversarial_logits")
                self.head = last
        except (AttributeError, ValueError):     # a subclassed model: no symbolic graph
            self.head = None
        if self.head is None:
            self.net = model
        self._gradients: dict[float, object] = {}

    def gradient(self, sign: float):
        """The compiled ∂/∂pixels of −sign · Σ log p(class): +1 climbs the label's
        cross-entropy (untargeted), −1 descends the target's (targeted)."""
        if sign not in self._gradients:
            ops = keras().ops

            def loss(x, classes):
                log_p = ops.log_softmax(self(x), axis=-1)
                return -sign * ops.sum(ops.take_along_axis(log_p, classes, axis=1))

            self._gradients[sign] = compiled_input_gradient(loss)
        return self._gradients[sign]

    @classmethod
    def get(cls, model) -> _Scores:
        with cls._lock:
            found = cls._cache.get(model)
            if found is None:
                found = cls._cache[model] = cls(model)
            return found

    def __call__(self, x):
        ops = keras().ops
        out = ops.cast(self.net(x, training=False), "float32")
        if self.head is not None:
            out = ops.matmul(out, ops.cast(self.head.kernel, "float32"))
            return out + ops.cast(self.head.bias, "float32") if self.head.bias is not None \
                else out
        return ops.log(ops.maximum(out, 1e-12)) if self.softmax_out else out


def model_input_shape(model, fallback=None) -> tuple[int, int, int]:
    try:
        return tuple(int(d) for d in model.inputs[0].shape[1:])
    except (AttributeError, IndexError, TypeError):   # a subclassed (transfer) model
        if fallback is None:
            raise StudioError("the model does not say its input shape") from None
        return tuple(int(d) for d in fallback)


def _softmax(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def probabilities(model, images, batch_size: int = 256) -> np.ndarray:
    """(N, classes) float64 probabilities for raw-pixel images (N, H, W, C)."""
    scores = _Scores.get(model)
    x = np.asarray(images, np.float32)
    out = [np.asarray(keras().ops.convert_to_numpy(scores(x[i:i + batch_size])), np.float64)
           for i in range(0, len(x), batch_size)]
    return _softmax(np.concatenate(out))


def attack_gradient(model, images, labels, target=None) -> np.ndarray:
    """∂/∂pixels of what the attack climbs: the label's cross-entropy (untargeted) or minus
    the target's (targeted). Each image's gradient is its own: the loss is a sum over them."""
    classes = np.asarray(labels if target is None else target, np.int64)
    classes = np.broadcast_to(classes, (len(images),)).reshape(-1, 1)
    grad = _Scores.get(model).gradient(1.0 if target is None else -1.0)
    return grad(np.asarray(images, np.float32), classes)


def _check(eps: float) -> float:
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and 0 <= eps <= 1):
        raise StudioError(f"ε must be between 0 and 1 (a fraction of the 0..255 range), "
                          f"got {eps}")
    return float(eps) * 255.0


def quantise(x0: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The attacked images as uint8, each pixel's change cut toward zero: still inside the
    ε-ball and 0..255, and what the model is tested on is exactly the PNG one saves."""
    x0 = np.asarray(x0, np.float32)
    return (x0 + np.trunc(np.asarray(x, np.float32) - x0)).astype(np.uint8)


def fgsm(model, images, eps: float, labels, target=None, sign=None) -> np.ndarray:
    """One step of ε·sign(gradient), clipped to 0..255 → uint8. ``sign`` may be given: it
    does not depend on ε, so a slider needs one gradient per image, not one per move."""
    x0 = np.asarray(images, np.float32)
    if sign is None:
        sign = np.sign(attack_gradient(model, x0, labels, target))
    return quantise(x0, np.clip(x0 + _check(eps) * sign, 0.0, 255.0))


def pgd(model, images, eps: float, labels, target=None, steps: int = PGD_STEPS,
        step_size: float | None = None) -> np.ndarray:
    """``steps`` signed steps of ``step_size`` (0..1 scale; default 2.5·ε/steps, Madry's
    choice: enough to cross the ball and slide along its edge), each projected back to the
    ε-ball around the image and to 0..255 → uint8."""
    radius = _check(eps)
    if not 1 <= int(steps) <= 1000:
        raise StudioError(f"PGD steps must be between 1 and 1000, got {steps}")
    alpha = (2.5 * radius / steps) if step_size is None else _check(step_size)
    x0 = np.asarray(images, np.float32)
    x = x0.copy()
    for _ in range(int(steps)):
        if radius == 0:
            break
        x = x + alpha * np.sign(attack_gradient(model, x, labels, target))
        x = np.clip(np.clip(x, x0 - radius, x0 + radius), 0.0, 255.0)
    return quantise(x0, x)


def run_attack(model, images, eps: float, labels, method: str = "fgsm", target=None,
               steps: int = PGD_STEPS, sign=None) -> np.ndarray:
    if method == "fgsm":
        return fgsm(model, images, eps, labels, target, sign=sign)
    if method == "pgd":
        return pgd(model, images, eps, labels, target, steps=steps)
    raise StudioError(f"unknown attack {method!r}; choose one of: {', '.join(METHODS)}")


@dataclass
class Adversarial:
    original: np.ndarray        # uint8 (H, W, C) as the model sees it
    image: np.ndarray           # uint8 (H, W, C): the adversarial image
    before: np.ndarray          # (classes,) probabilities of the original
    after: np.ndarray           # (classes,) probabilities of the adversarial image
    label: int                  # the class attacked away from (the prediction, unless given)
    target: int | None
    eps: float
    method: str

    @property
    def perturbation(self) -> np.ndarray:
        return self.image.astype(np.int16) - self.original.astype(np.int16)

    @property
    def fooled(self) -> bool:
        """Untargeted: the prediction left the label; targeted: it is the target."""
        predicted = int(np.argmax(self.after))
        return predicted == self.target if self.target is not None else predicted != self.label


def prepare(model, image, shape=None) -> np.ndarray:
    """A raw image (any size, grey or colour) → uint8 (H, W, C) at the model's input size."""
    fitted = as_batch(image, model_input_shape(model, shape))[0]
    return np.clip(np.round(fitted), 0, 255).astype(np.uint8)


def attack_image(model, image, eps: float, method: str = "fgsm", target: int | None = None,
                 label: int | None = None, steps: int = PGD_STEPS,
                 cache: dict | None = None) -> Adversarial:
    """Attack one image. ``cache`` (a dict the caller keeps per image) holds the original's
    probabilities and FGSM's gradient sign per target, so moving ε costs one forward pass."""
    original = prepare(model, image)
    cache = {} if cache is None else cache
    if "before" not in cache:
        cache["before"] = probabilities(model, original[None])[0]
    before = cache["before"]
    classes = len(before)
    if target is not None and not 0 <= int(target) < classes:
        raise StudioError(f"target class {target} is not one of the model's {classes} classes")
    label = int(np.argmax(before)) if label is None else int(label)
    sign = None
    if method == "fgsm":
        key = ("sign", label, target)
        if key not in cache:
            cache[key] = np.sign(attack_gradient(model, original[None], [label], target))
        sign = cache[key]
    adv = run_attack(model, original[None], eps, [label], method, target, steps, sign)[0]
    after = probabilities(model, adv[None])[0]
    return Adversarial(original, adv, before, after, label,
                       None if target is None else int(target), float(eps), method)


def amplified(perturbation: np.ndarray) -> np.ndarray:
    """A perturbation (int, ±ε·255) → uint8 RGB made visible: grey 128 is no change, the
    largest change reaches 0 or 255 (each channel as it is; grey repeated to RGB)."""
    delta = np.asarray(perturbation, np.float32)
    top = float(np.abs(delta).max())
    shown = 128.0 + (delta * (127.0 / top) if top > 0 else 0.0)
    shown = np.clip(np.round(shown), 0, 255).astype(np.uint8)
    return np.repeat(shown, 3, axis=-1) if shown.shape[-1] == 1 else shown[..., :3]


def top_k(probs: np.ndarray, names: list[str], k: int = 5) -> list[tuple[str, float]]:
    order = np.argsort(-np.asarray(probs), kind="stable")[:k]
    return [(names[i] if i < len(names) else str(i), float(probs[i])) for i in order]


def class_index(text: str, names: list[str]) -> int:
    """A class given by name or by index → its index; anything else: one clear line."""
    text = str(text).strip()
    if text in names:
        return names.index(text)
    if text.lstrip("-").isdigit() and 0 <= int(text) < len(names):
        return int(text)
    shown = ", ".join(names[:20]) + (" …" if len(names) > 20 else "")
    raise StudioError(f"unknown class {text!r}: give a class name or an index 0–"
                      f"{len(names) - 1} ({shown})")
