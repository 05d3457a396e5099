"""FGSM and PGD with known answers: a hand-made linear softmax model whose loss gradient is
known in closed form, the ε-ball and 0..255 kept, targeted attacks, and the curve's ε = 0."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.errors import StudioError
from cnnstudio.core.probes import adversarial as adv
from cnnstudio.core.probes.adversarial_curve import accuracy_curve, example_grid

pytest.importorskip("tensorflow")


def linear_model(weights: np.ndarray, bias: np.ndarray):
    """(2, 2, 1) pixels → Flatten → Dense softmax with the given kernel (4, classes)."""
    from cnnstudio.core.keras_setup import keras

    k = keras()
    model = k.Sequential([k.Input((2, 2, 1)), k.layers.Flatten(),
                          k.layers.Dense(weights.shape[1], activation="softmax")])
    model.layers[-1].set_weights([weights.astype(np.float32), bias.astype(np.float32)])
    return model


def cross_entropy_gradient(weights, bias, x, label) -> np.ndarray:
    """∂(−log softmax(xW + b)[label]) / ∂x = W·(p − onehot(label)), by hand."""
    z = x.reshape(-1) @ weights + bias
    p = np.exp(z - z.max())
    p /= p.sum()
    p[label] -= 1.0
    return (weights @ p).reshape(x.shape)


def test_fgsm_steps_eps_along_the_sign_of_the_known_gradient():
    rng = np.random.default_rng(1)
    weights, bias = rng.normal(0, 0.02, (4, 3)), np.array([0.1, -0.2, 0.0])
    model = linear_model(weights, bias)
    image = np.array([[[100], [120]], [[140], [90]]], np.uint8)
    label = 1
    known = cross_entropy_gradient(weights, bias, image.astype(np.float64), label)
    got = adv.attack_gradient(model, image[None], [label])[0]
    np.testing.assert_allclose(got, known, rtol=1e-4, atol=1e-7)
    # ε = 10/255: exactly ±10 grey levels per pixel, the sign of the known gradient.
    attacked = adv.fgsm(model, image[None], 10 / 255, [label])[0]
    assert np.array_equal(attacked.astype(int) - image, 10 * np.sign(known).astype(int))


def test_fgsm_on_one_image_pushes_away_from_the_prediction_and_caches_the_sign():
    weights = np.array([[1, 0], [-1, 0], [2, 0], [-2, 0]], np.float64) / 100
    model = linear_model(weights, np.zeros(2))
    image = np.full((2, 2, 1), 128, np.uint8)       # logit 0 = 0: class 0 wins by argmax
    cache: dict = {}
    found = adv.attack_image(model, image, eps=20 / 255, cache=cache)
    # Leaving class 0 means lowering x·W₀: each pixel moves against the sign of W₀.
    assert found.label == 0
    assert found.perturbation.reshape(-1).tolist() == [-20, 20, -20, 20]
    assert found.after[0] < found.before[0]
    assert ("sign", 0, None) in cache
    again = adv.attack_image(model, image, eps=5 / 255, cache=cache)
    assert again.perturbation.reshape(-1).tolist() == [-5, 5, -5, 5]


def test_a_targeted_attack_raises_the_targets_probability():
    rng = np.random.default_rng(2)
    weights, bias = rng.normal(0, 0.02, (4, 3)), np.array([1.0, 0.0, -1.0])
    model = linear_model(weights, bias)
    image = np.array([[[60], [200]], [[30], [180]]], np.uint8)
    for method in adv.METHODS:
        found = adv.attack_image(model, image, eps=0.2, method=method, target=2)
        assert found.target == 2 and found.after[2] > found.before[2], method


def test_pgd_stays_inside_the_eps_ball_and_0_to_255():
    rng = np.random.default_rng(3)
    model = linear_model(rng.normal(0, 0.05, (4, 4)), np.zeros(4))
    images = rng.choice(np.array([0, 3, 128, 250, 255], np.uint8), size=(16, 2, 2, 1))
    labels = rng.integers(0, 4, 16)
    eps = 0.05                                       # 12.75 grey levels
    attacked = adv.pgd(model, images, eps, labels, steps=7)
    change = attacked.astype(int) - images.astype(int)
    assert attacked.dtype == np.uint8
    assert np.abs(change).max() <= eps * 255 and np.abs(change).max() >= 12
    fgsm_loss = _loss(model, adv.fgsm(model, images, eps, labels), labels)
    assert _loss(model, attacked, labels) >= fgsm_loss - 1e-6   # more steps: no weaker


def _loss(model, images, labels) -> float:
    p = adv.probabilities(model, images)
    return float(-np.log(p[np.arange(len(labels)), labels]).sum())


def test_the_curve_at_eps_0_is_the_clean_accuracy_and_falls_with_eps():
    rng = np.random.default_rng(4)
    weights = rng.normal(0, 0.03, (4, 3))
    model = linear_model(weights, np.zeros(3))
    images = rng.integers(0, 256, (40, 2, 2, 1)).astype(np.uint8)
    labels = adv.probabilities(model, images).argmax(axis=1)
    labels[:10] = (labels[:10] + 1) % 3              # 10 of 40 wrong: clean accuracy 0.75
    curve = accuracy_curve(model, images, labels, eps_values=(0.0, 0.1, 0.3), examples=4,
                           batch_size=16)
    assert curve.accuracy[0] == pytest.approx(0.75)
    assert curve.accuracy[2] <= curve.accuracy[1] <= curve.accuracy[0]
    assert curve.accuracy[2] < 0.75
    assert [len(row) for row in curve.examples] == [4, 4, 4]
    assert np.array_equal(curve.examples[0], images[10:14])    # first clean-right images
    assert example_grid(curve, gap=1).shape == (3 * 3 - 1, 4 * 3 - 1, 1)


def test_amplified_perturbation_spans_the_grey_range():
    shown = adv.amplified(np.array([[[-10], [0]], [[5], [10]]], np.int16))
    assert shown.shape == (2, 2, 3)
    assert shown[..., 0].reshape(-1).tolist() == [1, 128, 192, 255]


@pytest.mark.parametrize("call, message", [
    (lambda m, x: adv.fgsm(m, x, 1.5, [0]), "ε must be between 0 and 1"),
    (lambda m, x: adv.run_attack(m, x, 0.1, [0], "bim"), "unknown attack 'bim'"),
    (lambda m, x: adv.attack_image(m, x[0], 0.1, target=9), "target class 9 is not one"),
    (lambda m, x: adv.class_index("zebra", ["cat", "dog"]), "unknown class 'zebra'"),
])
def test_bad_input_is_one_clear_line(call, message):
    model = linear_model(np.ones((4, 2)) / 100, np.zeros(2))
    with pytest.raises(StudioError, match=message):
        call(model, np.zeros((1, 2, 2, 1), np.uint8))
