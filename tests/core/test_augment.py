"""Augmentation: Keras Random* layers, a preview grid, and training-only batches."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core import augment
from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import ArraySplit, Dataset
from cnnstudio.core.errors import ConfigError
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.registry import TASKS


def _arrow(channels=3):
    image = np.zeros((16, 16, channels), np.uint8)
    image[2:6, 1:12] = 200   # a bar in the top-left: flips and shifts move it visibly
    return image


def test_problems_and_empty_config():
    assert augment.augmentation_problems({"flip": "horizontal", "rotation": 0.1}) == []
    assert augment.augmentation_problems({"flip": "sideways"}) == [
        "augmentation flip must be one of none, horizontal, vertical, horizontal_and_vertical, "
        "got 'sideways'"]
    assert not augment.is_active({}) and not augment.is_active({"flip": "none", "zoom": 0})
    assert augment.is_active({"zoom": 0.1})
    with pytest.raises(ConfigError, match="augmentation zoom must be a number from 0 to 0.9"):
        augment.build_layers({"zoom": 3})
    names = [type(x).__name__ for x in augment.build_layers(
        {"flip": "horizontal", "rotation": 0.1, "translation": 0.1, "zoom": 0.1,
         "contrast": 0.2, "brightness": 0.2})]
    assert names == ["RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
                     "RandomContrast", "RandomBrightness"]


def test_preview_of_horizontal_flips_is_the_image_or_its_mirror():
    image = _arrow()
    grid = augment.preview(image, {"flip": "horizontal"}, n=24, seed=1)
    assert grid.shape == (24, 16, 16, 3) and grid.dtype == np.uint8
    assert np.array_equal(grid[0], image)
    mirrored = [np.array_equal(g, image[:, ::-1]) for g in grid[1:]]
    same = [np.array_equal(g, image) for g in grid[1:]]
    assert all(m or s for m, s in zip(mirrored, same, strict=True))
    assert any(mirrored) and any(same)


def test_preview_brightness_shifts_every_pixel_by_one_amount():
    image = np.full((8, 8, 1), 100, np.uint8)
    grid = augment.preview(image, {"brightness": 0.2}, n=8, seed=0)
    shifts = [int(g.astype(int).mean()) - 100 for g in grid[1:]]
    for g, s in zip(grid[1:], shifts, strict=True):
        assert np.abs(g.astype(int) - 100 - s).max() <= 1   # one shift per image
        assert abs(s) <= 0.2 * 255 + 1
    assert len(set(shifts)) > 3


def test_training_batches_are_augmented_and_validation_is_not():
    x = np.repeat(_arrow(1)[None], 40, axis=0)
    y = (np.arange(40) % 2).astype(np.int32)
    data = Dataset("toy", "toy", ["a", "b"], (16, 16, 1), ArraySplit(x, y), ArraySplit(x[:4], y[:4]))
    cfg = TrainConfig(batch_size=8, validation_split=0.25,
                      augmentation={"translation": 0.3, "flip": "vertical"})
    notices = []
    fit = TASKS.get("classification").prepare(data, (16, 16, 1), cfg, notices.append)
    batches = fit.fit_kwargs["x"]
    assert isinstance(batches, keras().utils.PyDataset) and "y" not in fit.fit_kwargs
    assert len(batches) == fit.steps_per_epoch == 4
    xb, yb = batches[0]
    assert xb.shape == (8, 16, 16, 1) and xb.dtype == np.uint8
    assert sum(not np.array_equal(img, x[0]) for img in xb) >= 6
    assert sorted(np.concatenate([batches[i][1] for i in range(4)]).tolist()) == [0] * 15 + [1] * 15
    vx, _ = fit.fit_kwargs["validation_data"]
    assert all(np.array_equal(img, x[0]) for img in vx)
    assert all(np.array_equal(img, x[0]) for img in fit.test[0])
    assert "augmenting training images: flip vertical, translation 0.3" in notices[0].message


def test_no_augmentation_keeps_plain_arrays():
    x = np.zeros((10, 8, 8, 1), np.uint8)
    y = np.arange(10, dtype=np.int32) % 2
    data = Dataset("toy", "toy", ["a", "b"], (8, 8, 1), ArraySplit(x, y), ArraySplit(x, y))
    fit = TASKS.get("classification").prepare(data, (8, 8, 1), TrainConfig(), lambda e: None)
    assert isinstance(fit.fit_kwargs["x"], np.ndarray) and fit.fit_kwargs["batch_size"] == 32
