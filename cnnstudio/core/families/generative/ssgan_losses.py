"""The semi-supervised GAN's arithmetic (Salimans et al. 2016, "Improved Techniques for
Training GANs"), written once for numpy and keras.ops.

Each function takes ``xp``, the array namespace: ``numpy`` in tests (hand-made numbers,
known answers) and ``keras.ops`` inside the model's train_step, so the tested code is
the code that trains. No Keras import here.

The discriminator has K class logits l_1..l_K and no separate real/fake output: with
Z(x) = Σ_k exp(l_k(x)), D(x) = Z / (Z + 1), i.e. D(x) = sigmoid(log-sum-exp(l)).
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.errors import DataError


def softplus(x, xp=np):
    """log(1 + e^x), stable for large |x|."""
    return xp.logaddexp(0.0, x)


def realness_logit(class_logits, xp=np):
    """The real/fake logit: log Σ_k exp(l_k), over the last axis (max-shifted, so stable)."""
    top = xp.max(class_logits, axis=-1, keepdims=True)
    lse = xp.log(xp.sum(xp.exp(class_logits - top), axis=-1, keepdims=True)) + top
    return xp.squeeze(lse, -1)


def realness(class_logits, xp=np):
    """D(x) = sigmoid(lse(l)) = Z / (Z + 1): the probability the image is real."""
    return 1.0 / (1.0 + xp.exp(-realness_logit(class_logits, xp)))


def class_probabilities(class_logits, xp=np):
    """p(y | x, real): the softmax of the K class logits."""
    shifted = class_logits - xp.max(class_logits, axis=-1, keepdims=True)
    e = xp.exp(shifted)
    return e / xp.sum(e, axis=-1, keepdims=True)


def supervised_loss(class_logits, labels_onehot, xp=np):
    """Cross-entropy of the labelled batch: mean over images of lse(l) − l_y."""
    picked = xp.sum(class_logits * labels_onehot, axis=-1)
    return xp.mean(realness_logit(class_logits, xp) - picked)


def unsupervised_loss(real_logits, fake_logits, xp=np):
    """The real/fake loss on unlabelled real and generated images, each half-weighted:
    ½·mean(−log D(x)) + ½·mean(−log(1 − D(G(z)))), where −log sigmoid(a) = softplus(−a)
    and −log(1 − sigmoid(a)) = softplus(a)."""
    real = xp.mean(softplus(-realness_logit(real_logits, xp), xp))
    fake = xp.mean(softplus(realness_logit(fake_logits, xp), xp))
    return 0.5 * real + 0.5 * fake


def feature_matching_loss(real_features, fake_features, xp=np):
    """The generator's loss: ‖E f(x) − E f(G(z))‖², the squared Euclidean distance between
    the batch means of an intermediate discriminator layer on real and generated images."""
    gap = xp.mean(real_features, axis=0) - xp.mean(fake_features, axis=0)
    return xp.sum(gap * gap)


def labelled_subset(labels, per_class: int, num_classes: int, seed: int) -> np.ndarray:
    """Sorted indices of ``per_class`` images of each class, chosen with ``seed``.

    Fewer than ``per_class`` images in some class → one DataError naming the numbers.
    """
    labels = np.asarray(labels)
    if not isinstance(per_class, int | np.integer) or isinstance(per_class, bool) \
            or per_class < 1:
        raise DataError(f"labelled_per_class must be a positive integer, got {per_class!r}")
    counts = np.bincount(labels, minlength=num_classes)
    short = [(c, int(n)) for c, n in enumerate(counts) if n < per_class]
    if short:
        c, n = min(short, key=lambda s: s[1])
        raise DataError(
            f"labelled_per_class is {per_class}, but the training images hold only {n} of "
            f"class {c} (the fewest; {len(short)} of {num_classes} classes have fewer than "
            f"{per_class}); ask for at most {int(counts.min())} labels per class")
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
             for c in range(num_classes)]
    return np.sort(np.concatenate(picks))
