"""Known answers for the numpy views: filters, feature maps, confusion matrix, grids."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.keras_setup import keras
from cnnstudio.core.probes import confusion, filters
from cnnstudio.core.probes.feature_maps import FeatureMaps, channel_view, map_layer_names, overview
from cnnstudio.core.probes.grid import normalise, tile


def tiny_conv_model(shape=(7, 6, 1), filters_=2, kernel=None, bias=None):
    k = keras()
    inputs = k.Input(shape=shape, name="image")
    x = k.layers.Rescaling(1 / 255, name="rescale")(inputs)
    x = k.layers.Conv2D(filters_, 3, name="conv", activation=None)(x)
    x = k.layers.MaxPooling2D(2, name="pool")(x)
    x = k.layers.Flatten()(x)
    outputs = k.layers.Dense(3, activation="softmax", name="predictions")(x)
    model = k.Model(inputs, outputs)
    if kernel is not None:
        model.get_layer("conv").set_weights([kernel, bias])
    return model


def correlate_valid(image, kernel):
    """Direct 'valid' cross-correlation, as Conv2D computes it, one output channel."""
    kh, kw = kernel.shape[:2]
    h, w = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    out = np.zeros((h, w))
    for i in range(h):
        for j in range(w):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out


def test_feature_map_equals_direct_convolution():
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 3, 1, 2)).astype(np.float32)
    bias = np.array([0.5, -0.25], np.float32)
    model = tiny_conv_model(kernel=kernel, bias=bias)
    image = rng.integers(0, 256, size=(7, 6, 1)).astype(np.uint8)
    maps = FeatureMaps.for_model(model)(image)
    assert list(maps) == ["conv", "pool"] == map_layer_names(model)
    x = image[:, :, 0].astype(np.float64) / 255
    for c in range(2):
        expected = correlate_valid(x, kernel[:, :, 0, c]) + bias[c]
        np.testing.assert_allclose(maps["conv"][:, :, c], expected, atol=1e-5)
    # Pooling: 5×4 → 2×2 maxima of the conv map.
    conv = maps["conv"]
    np.testing.assert_allclose(maps["pool"][0, 0], conv[:2, :2].max(axis=(0, 1)), atol=1e-6)
    assert FeatureMaps.for_model(model) is FeatureMaps.for_model(model)   # built once


def test_channel_view_lays_out_every_channel():
    fmap = np.arange(4 * 5 * 3, dtype=np.float32).reshape(4, 5, 3)
    view = channel_view(fmap, "c1", norm="none")
    assert view.title == "c1: 3 channels of 4×5"
    for c in range(3):
        x, y = view.mosaic.tile_origin(c)
        np.testing.assert_array_equal(view.mosaic.image[y:y + 4, x:x + 5], fmap[:, :, c])
    assert view.mosaic.tile_at(x + 1, y + 1) == 2
    assert len(overview({"a": fmap, "b": fmap}, per_layer=2)) == 2


def test_filter_images_reproduce_hand_set_kernels():
    kernel = np.zeros((3, 3, 1, 4), np.float32)
    kernel[:, 0, 0, 0] = 1.0            # vertical edge
    kernel[0, :, 0, 1] = 1.0            # horizontal edge
    kernel[:, :, 0, 2] = np.eye(3)      # diagonal
    kernel[1, 1, 0, 3] = -2.0           # centre dot, negative
    view = filters.filter_view(kernel, "conv", norm="none")
    assert view.mode == "channel" and view.tiles.shape == (4, 3, 3)
    for i in range(4):
        np.testing.assert_array_equal(view.tiles[i], kernel[:, :, 0, i])
        x, y = view.mosaic.tile_origin(i)
        np.testing.assert_array_equal(view.mosaic.image[y:y + 3, x:x + 3], kernel[:, :, 0, i])
    scaled = filters.filter_view(kernel, norm="filter").tiles
    np.testing.assert_array_equal(scaled[2], np.eye(3))
    np.testing.assert_array_equal(scaled[3], 1 - np.pad([[1.0]], 1))   # -2 at centre → 0
    layer = filters.filter_view(kernel, norm="layer").tiles
    np.testing.assert_allclose(layer, (np.moveaxis(kernel[:, :, 0], 2, 0) + 2) / 3)
    assert "4 filters of 3×3×1" in view.title


def test_rgb_and_per_channel_modes():
    rng = np.random.default_rng(1)
    kernel = rng.normal(size=(5, 5, 3, 2)).astype(np.float32)
    rgb = filters.filter_view(kernel)
    assert rgb.mode == "rgb" and rgb.tiles.shape == (2, 5, 5, 3)
    np.testing.assert_allclose(rgb.tiles[1], normalise(kernel[..., 1][None])[0])
    avg = filters.filter_view(kernel, mode="average", norm="none")
    np.testing.assert_allclose(avg.tiles[0], kernel[..., 0].mean(axis=2), atol=1e-6)
    one = filters.filter_view(kernel, mode="channel", channel=2, norm="none")
    np.testing.assert_array_equal(one.tiles[1], kernel[:, :, 2, 1])
    every = filters.filter_view(kernel, mode="all", norm="none")
    assert every.tiles.shape == (6, 5, 5) and every.mosaic.cols == 3
    np.testing.assert_array_equal(every.tiles[4], kernel[:, :, 1, 1])   # filter 1, input 1
    with pytest.raises(ValueError):
        filters.filter_view(kernel, mode="bogus")


def test_conv_kernels_read_from_model():
    kernel = np.ones((3, 3, 1, 2), np.float32)
    model = tiny_conv_model(kernel=kernel, bias=np.zeros(2, np.float32))
    found = filters.conv_kernels(model)
    assert list(found) == ["conv"]
    np.testing.assert_array_equal(found["conv"], kernel)


def test_grid_gaps_are_nan_and_constant_tiles_are_grey():
    mosaic = tile(np.ones((3, 2, 2)), gap=1)
    assert mosaic.rows == 2 and mosaic.cols == 2
    assert np.isnan(mosaic.image[2, 0]) and np.isnan(mosaic.image[3, 3])
    assert np.all(normalise(np.full((1, 2, 2), 7.0)) == 0.5)


def test_confusion_matrix_equals_counted_one():
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 4, 300)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 4, 300))
    cm = confusion.confusion_matrix(y_true, y_pred, 4)
    counted = np.zeros((4, 4), int)
    for t, p in zip(y_true, y_pred, strict=True):
        counted[t, p] += 1
    np.testing.assert_array_equal(cm, counted)
    m = confusion.class_metrics(cm)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=range(4), zero_division=0)
    np.testing.assert_allclose(m.precision, p)
    np.testing.assert_allclose(m.recall, r)
    np.testing.assert_allclose(m.f1, f)
    np.testing.assert_array_equal(m.support, s)
    assert m.accuracy == pytest.approx(np.mean(y_true == y_pred))
    idx = confusion.cell_indices(y_true, y_pred, 1, 3)
    assert len(idx) == cm[1, 3] and np.all(y_true[idx] == 1) and np.all(y_pred[idx] == 3)


def test_error_gallery_is_worst_first():
    y_true = np.array([0, 1, 2, 0, 1])
    probs = np.array([[0.9, 0.1, 0.0],     # right
                      [0.6, 0.4, 0.0],     # wrong, true prob 0.4
                      [0.0, 0.95, 0.05],   # wrong, true prob 0.05 → worst
                      [0.3, 0.7, 0.0],     # wrong, true prob 0.3
                      [0.1, 0.8, 0.1]])    # right
    assert confusion.error_order(y_true, probs).tolist() == [2, 3, 1]
    empty = confusion.class_metrics(np.zeros((2, 2)))
    assert empty.accuracy == 0 and np.all(empty.f1 == 0)
