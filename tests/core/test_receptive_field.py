"""What a unit sees (issue 27, section 5), with known answers: the theoretical receptive field
of stacks of known kernels and strides, the effective field's support on a linear network,
the strongest patches of a hand-made detector, flipped predictions and the projector."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.errors import StudioError
from cnnstudio.core.probes import projector
from cnnstudio.core.probes.receptive_field import (
    Field,
    Step,
    effective_field,
    field_of,
    receptive_fields,
    stack,
)
from cnnstudio.core.probes.top_patches import cut, patch_grid, top_patches
from cnnstudio.core.probes.what_changed import PredictionRecorder, PredictionStore, flips


def _sizes(fields):
    return [(f.size[0], f.jump[0], f.first[0], f.shape[0]) for f in fields]


def test_three_3x3_convolutions_see_7_pixels_and_pooling_doubles_the_jump():
    conv3 = Step((3, 3))
    assert _sizes(stack([conv3, conv3, conv3], (32, 32))) == [
        (3, 1, 0, 30), (5, 1, 0, 28), (7, 1, 0, 26)]
    # conv 3 → pool 2/2 → conv 3: r = 3, 4, 4 + 2·2 = 8; the jump 1, 2, 2.
    assert _sizes(stack([conv3, Step((2, 2), (2, 2)), conv3], (32, 32))) == [
        (3, 1, 0, 30), (4, 2, 0, 15), (8, 2, 0, 13)]
    # A dilated 3×3 (d = 2) spans 5; a stride-2 5×5 "same" pads 2 before a 9-pixel input
    # (Keras: ceil(9/2) = 5 outputs, (5−1)·2 + 5 − 9 = 4 padding, 2 before).
    dilated, strided = stack([Step((3, 3), dilation=(2, 2)), Step((5, 5), (2, 2),
                                                                   padding="same")], (9, 9))
    assert (dilated.size, dilated.first, dilated.shape) == ((5, 5), (0, 0), (5, 5))
    assert (strided.size, strided.jump, strided.first, strided.shape) == (
        (9, 9), (2, 2), (-2, -2), (3, 3))
    # A non-square kernel keeps its axes apart.
    wide = stack([Step((1, 7), (1, 3))], (10, 10))[0]
    assert (wide.size, wide.jump, wide.shape) == ((1, 7), (1, 3), (10, 2))


def test_a_units_box_follows_first_jump_and_size_and_is_clipped_to_the_image():
    f = Field(size=(8, 8), jump=(2, 2), first=(-2, -2), shape=(13, 13))
    assert f.box(0, 0) == (-2, -2, 6, 6)
    assert f.box(0, 0, (28, 28)) == (0, 0, 6, 6)
    assert f.box(3, 5, (28, 28)) == (4, 8, 12, 16)
    assert f.box(13, 13, (28, 28)) == (24, 24, 28, 28)


def test_keras_lenet_and_branches_meet_the_arithmetic(keras_models):
    lenet, branches = keras_models
    fields = receptive_fields(lenet)
    # LeNet on 28×28: c1 5×5 "same" (2 pixels of padding), s2 2/2, c3 5×5 valid, s4 2/2.
    assert [(n, fields[n].size[0], fields[n].jump[0], fields[n].first[0], fields[n].shape[0])
            for n in ("c1", "s2", "c3", "s4")] == [
        ("c1", 5, 1, -2, 28), ("s2", 6, 2, -2, 14), ("c3", 14, 2, -2, 10),
        ("s4", 16, 4, -2, 5)]
    assert "flatten" not in fields and "predictions" not in fields     # the walk stops
    with pytest.raises(StudioError, match="no receptive field"):
        field_of(lenet, "c5")
    # 3×3 and 5×5 "same" branches added: the union, 5×5; then 2/2 pooling: 6, jump 2.
    got = receptive_fields(branches)
    assert (got["add"].size, got["add"].first) == ((5, 5), (-2, -2))
    assert (got["pool"].size, got["pool"].jump, got["pool"].shape) == ((6, 6), (2, 2), (10, 10))
    assert got["norm"] == got["pool"]                     # pointwise layers change nothing


@pytest.fixture(scope="module")
def keras_models():
    from cnnstudio.core.families.classification.classic import build_lenet5
    from cnnstudio.core.keras_setup import keras

    layers = keras().layers
    inputs = keras().Input((20, 20, 1))
    added = layers.Add(name="add")([layers.Conv2D(2, 3, padding="same")(inputs),
                                    layers.Conv2D(2, 5, padding="same")(inputs)])
    pooled = layers.MaxPooling2D(2, name="pool")(added)
    branches = keras().Model(inputs, layers.BatchNormalization(name="norm")(pooled))
    return build_lenet5((28, 28, 1), 10), branches


@pytest.fixture(scope="module")
def linear_stack():
    """Conv 3×3 (ones) → avg-pool 2/2 → conv 3×3 stride 2 (ones), no activation, no bias: every
    input pixel in a unit's field has a positive gradient, every other one zero."""
    from cnnstudio.core.keras_setup import keras

    layers = keras().layers
    ones = keras().initializers.Ones()
    inputs = keras().Input((24, 24, 1))
    x = layers.Conv2D(1, 3, use_bias=False, kernel_initializer=ones, name="a")(inputs)
    x = layers.AveragePooling2D(2, name="p")(x)
    x = layers.Conv2D(2, 3, strides=2, padding="same", use_bias=False,
                      kernel_initializer=ones, name="b")(x)
    return keras().Model(inputs, x)


@pytest.mark.parametrize("unit", [(2, 3), (0, 0), (5, 5)])
def test_the_effective_field_of_a_linear_stack_fills_exactly_the_theoretical_box(linear_stack,
                                                                                 unit):
    f = field_of(linear_stack, "b")
    # a: 3, jump 1 → p: 4, jump 2 → b: 4 + 2·2 = 8, jump 4; "same" pads 1 before (×2 px).
    assert (f.size, f.jump, f.first, f.shape) == ((8, 8), (4, 4), (-2, -2), (6, 6))
    image = np.full((24, 24, 1), 100, np.uint8)
    erf = effective_field(linear_stack, "b", image, *unit, channel=1)
    assert erf.support == f.box(*unit, (24, 24))
    assert erf.heat.max() == pytest.approx(1.0) and erf.activation > 0
    with pytest.raises(StudioError, match="outside"):
        effective_field(linear_stack, "b", image, 6, 0)


def test_the_strongest_patches_are_the_brightest_squares_cut_at_the_field(linear_stack):
    images = np.zeros((12, 24, 24, 1), np.uint8)
    places = {3: (5, 9), 7: (14, 2), 0: (20, 20), 10: (1, 1)}     # image: top-left of a 3×3
    for rank, (i, (r, c)) in enumerate(places.items()):
        images[i, r:r + 3, c:c + 3] = 250 - 40 * rank             # 3 brightest, then 7, 0, 10
    found = top_patches(linear_stack, "a", images, channel=0, k=4)
    assert found.indices.tolist() == [3, 7, 0, 10]
    assert found.units == [places[i] for i in (3, 7, 0, 10)]      # "a" is valid: unit = corner
    assert found.patches.shape == (4, 3, 3, 1)
    assert np.array_equal(found.patches[1], images[7, 14:17, 2:5])
    assert np.all(np.diff(found.values) < 0) and found.searched == 12
    at = top_patches(linear_stack, "a", images, channel=0, position=(14, 2), k=2)
    assert at.indices[0] == 7 and at.units == [(14, 2), (14, 2)]
    assert patch_grid(found).shape == (2 * 3 + 1, 3 * 3 + 2, 3)


def test_a_field_past_the_border_is_cut_grey_and_one_larger_than_the_image_is_the_image():
    image = np.arange(36, dtype=np.uint8).reshape(6, 6, 1)
    patch = cut(image, Field((4, 4), (1, 1), (-2, -2), (6, 6)), 0, 0)
    assert patch[:2, :, 0].tolist() == [[128] * 4] * 2 and patch[2:, 2:, 0].tolist() == [
        [0, 1], [6, 7]]
    assert np.array_equal(cut(image, Field((9, 9), (2, 2), (-2, -2), (3, 3)), 1, 1), image)


def test_flips_between_two_epochs_are_counted_both_ways():
    labels = [0, 1, 2, 3, 4, 5]
    before = [0, 1, 9, 9, 4, 7]           # right, right, wrong, wrong, right, wrong
    after = [0, 8, 2, 9, 8, 6]            # right, WRONG, RIGHT, wrong, WRONG, other wrong
    found = flips(labels, before, after, (2, 5))
    assert found.right_to_wrong.tolist() == [1, 4] and found.wrong_to_right.tolist() == [2]
    assert found.wrong_to_other.tolist() == [5]
    assert (found.accuracy_before, found.accuracy_after) == (pytest.approx(3 / 6),
                                                             pytest.approx(2 / 6))
    assert "epoch 2 → 5 on 6 test images" in found.summary()
    with pytest.raises(StudioError, match="different images"):
        flips(labels, before, after[:5])


def test_the_recorder_keeps_each_epochs_test_predictions(tmp_path, linear_stack):
    from types import SimpleNamespace

    from cnnstudio.core.datasets.base import ArraySplit
    from cnnstudio.core.keras_setup import keras

    x = np.random.default_rng(0).integers(0, 255, (30, 24, 24, 1)).astype(np.uint8)
    y = np.arange(30) % 2
    dataset = SimpleNamespace(test=ArraySplit(x, y.astype(np.int32)), input_shape=(24, 24, 1))
    inputs = keras().Input((24, 24, 1))
    flat = keras().layers.Flatten()(inputs)
    model = keras().Model(inputs, keras().layers.Dense(2, activation="softmax")(flat))
    events = []
    recorder = PredictionRecorder(tmp_path, dataset, sink=events.append, limit=10)
    recorder(model, 1)
    store = PredictionStore(tmp_path)
    meta = store.meta()
    assert meta["indices"] == np.linspace(0, 29, 10).round().astype(int).tolist()
    assert meta["labels"] == y[meta["indices"]].tolist() and meta["of"] == 30
    expected = np.asarray(model(x[meta["indices"]].astype(np.float32))).argmax(axis=1)
    assert store.load(1).predicted.tolist() == expected.tolist()
    assert store.epochs() == [1] and events[0].name == "predictions"


def test_the_lasso_keeps_the_points_inside_a_concave_polygon():
    # A "U": the notch (1..2 × 1..3) is outside.
    u = [(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)]
    points = [(0.5, 2), (1.5, 2), (2.5, 2), (1.5, 0.5), (4, 1), (-1, 1)]
    assert projector.inside(points, u).tolist() == [True, False, True, True, False, False]
    assert not projector.inside(points, u[:2]).any()


def test_pca_puts_a_line_on_its_first_axis_and_tsne_keeps_clusters_apart():
    t = np.linspace(-1, 1, 40)
    direction = np.array([1.0, 2.0, -1.0, 0.5, 3.0])
    xy, note = projector.project(t[:, None] * direction, "pca")
    assert np.allclose(np.abs(xy[:, 1]), 0, atol=1e-4)
    assert abs(np.corrcoef(xy[:, 0], t)[0, 1]) == pytest.approx(1.0)
    assert "keep 100%" in note
    rng = np.random.default_rng(1)
    blobs = np.r_[rng.normal(0, 0.1, (20, 8)), rng.normal(5, 0.1, (20, 8))]
    xy, _ = projector.project(blobs, "tsne")
    a, b = xy[:20], xy[20:]
    gap = np.linalg.norm(a.mean(0) - b.mean(0))
    assert gap > 3 * max(a.std(0).max(), b.std(0).max())
    with pytest.raises(StudioError, match="unknown projection"):
        projector.project(blobs, "mds")
    assert projector.methods()[:2] == ["pca", "tsne"]
