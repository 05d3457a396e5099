"""Known answers for the gradient probes: Grad-CAM finds a bright square; ascent raises a filter."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.keras_setup import keras
from cnnstudio.core.probes import activation_max, gradcam

SIZE, SIDE = 16, 4


def square_images(n, rng):
    """Dim noise; class 1 has a bright SIDE×SIDE square somewhere, class 0 has none."""
    x = rng.integers(0, 70, size=(n, SIZE, SIZE, 1)).astype(np.uint8)
    y = rng.integers(0, 2, n)
    corners = rng.integers(0, SIZE - SIDE + 1, size=(n, 2))
    for i in np.flatnonzero(y == 1):
        r, c = corners[i]
        x[i, r:r + SIDE, c:c + SIDE] = 255
    return x, y, corners


@pytest.fixture(scope="module")
def square_model():
    k = keras()
    k.utils.set_random_seed(3)
    inputs = k.Input((SIZE, SIZE, 1), name="image")
    x = k.layers.Rescaling(1 / 255, name="rescale")(inputs)
    x = k.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(x)
    x = k.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv2")(x)
    x = k.layers.GlobalAveragePooling2D()(x)
    outputs = k.layers.Dense(2, activation="softmax", name="predictions")(x)
    model = k.Model(inputs, outputs)
    model.compile(optimizer=k.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    x, y, _ = square_images(600, np.random.default_rng(0))
    model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    return model


def test_grad_cam_maximum_lies_inside_the_square(square_model):
    x, y, corners = square_images(40, np.random.default_rng(99))   # held out
    inside = total = 0
    for i in np.flatnonzero(y == 1):
        result = gradcam.grad_cam(square_model, x[i], class_index=1)
        assert result.layer == "conv2" and result.heatmap.shape == (SIZE, SIZE)
        assert result.heatmap.max() == pytest.approx(1.0)
        r, c = np.unravel_index(np.argmax(result.heatmap), result.heatmap.shape)
        total += 1
        inside += corners[i][0] <= r < corners[i][0] + SIDE and corners[i][1] <= c < corners[i][1] + SIDE
    assert total >= 10 and inside / total >= 0.9, f"{inside}/{total} maxima inside the square"


def test_grad_cam_defaults_to_predicted_class_and_saliency_finds_square(square_model):
    x, y, corners = square_images(20, np.random.default_rng(7))
    i = int(np.flatnonzero(y == 1)[0])
    result = gradcam.grad_cam(square_model, x[i])
    assert result.class_index == int(np.argmax(result.probabilities)) == 1
    assert result.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    sal = gradcam.saliency(square_model, x[i], class_index=1)
    r, c = corners[i]
    # Saliency is noisier than Grad-CAM: the square should at least hold far more than its share.
    assert sal.heatmap[r:r + SIDE, c:c + SIDE].sum() / sal.heatmap.sum() > 2 * SIDE ** 2 / SIZE ** 2
    blended = gradcam.overlay(x[i], result.heatmap, alpha=0.4)
    assert blended.shape == (SIZE, SIZE, 3) and blended.dtype == np.uint8


def test_activation_maximisation_raises_the_filter_mean(square_model):
    # Pick a filter that responds at all: some trained ReLU filters only ever see
    # negative input and no image can light them up.
    grey = np.full((1, SIZE, SIZE, 1), 128, np.float32)
    target = int(np.argmax(activation_max.channel_mean(square_model, "conv2", grey)))
    seen = []
    result = activation_max.maximize_filter(square_model, "conv2", target, steps=20,
                                            progress=lambda s, n, v: seen.append((s, n)))
    assert seen[-1] == (20, 20) and len(result.activations) == 21
    assert result.activations[-1] > result.activations[0] + 1e-3
    assert result.image.shape == (SIZE, SIZE, 1) and result.image.dtype == np.uint8
    # The real ReLU output of that channel, measured independently, went up.
    sub = keras().Model(square_model.inputs[0], square_model.get_layer("conv2").output)
    start = np.clip(128 + np.random.default_rng(0).normal(0, 16, (1, SIZE, SIZE, 1)), 0, 255)
    before = np.asarray(sub(start.astype(np.float32)))[..., target].mean()
    after = np.asarray(sub(result.image[None].astype(np.float32)))[..., target].mean()
    assert after > 1.5 * before > 0
    assert result.final_mean == pytest.approx(after, rel=1e-4)


def test_activation_maximisation_cancels_from_the_callback(square_model):
    def cancel(step, steps, value):
        if step == 3:
            raise activation_max.Cancelled()

    with pytest.raises(activation_max.Cancelled):
        activation_max.maximize_filter(square_model, "conv1", 0, steps=50, progress=cancel)
    with pytest.raises(ValueError, match="8 filters"):
        activation_max.maximize_filter(square_model, "conv1", 8)
