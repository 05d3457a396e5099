"""The ``shape-scenes`` dataset source: generated offline, captions kept beside the images.

Labels are the number of shapes (0: one, 1: two, 2: three), so the dataset picker's
preview shows scenes grouped by how much there is to say. The captions, their tokens
and each object's box travel in ``SceneSplit`` (an ``ArraySplit`` with more fields).
Train and test come from one seeded stream, split in a fixed, seeded order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnstudio.core.datasets.base import ArraySplit, Dataset, DatasetSource
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.attention import shape_scenes as scenes
from cnnstudio.core.options import Int

TRAIN_COUNT, TEST_COUNT = 8000, 1000
CLASS_NAMES = ["one shape", "two shapes", "three shapes"]


@dataclass
class SceneSplit(ArraySplit):
    captions: list[str] = field(default_factory=list)
    objects: np.ndarray | None = None        # int16 (N, 3, len(scenes.FIELDS))

    def tokens(self) -> np.ndarray:
        return scenes.encode(self.captions)

    def subset(self, indices) -> SceneSplit:
        idx = np.asarray(indices, np.int64)
        return SceneSplit(self.x[idx], self.y[idx], [self.captions[i] for i in idx],
                          self.objects[idx])


def _int_option(options, key, default, low, high) -> int:
    value = options.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DataError(f"{key} must be an integer between {low} and {high}, got {value!r}")
    return value


def make_split(s: scenes.Scenes, indices) -> SceneSplit:
    idx = np.asarray(indices, np.int64)
    return SceneSplit(s.images[idx], (s.counts()[idx] - 1).astype(np.int32),
                      [s.captions[i] for i in idx], s.objects[idx])


def load(options, progress=lambda event: None) -> Dataset:
    unknown = sorted(set(options) - {"seed", "max_objects", "limit", "test_count"})
    if unknown:
        raise DataError(f"unknown option '{unknown[0]}' for shape-scenes — known: seed, "
                        "max_objects, limit, test_count")
    seed = _int_option(options, "seed", 0, 0, 2**31 - 1)
    max_objects = _int_option(options, "max_objects", scenes.MAX_OBJECTS, 1, scenes.MAX_OBJECTS)
    train_n = _int_option(options, "limit", TRAIN_COUNT, 1, 100_000)
    test_n = _int_option(options, "test_count", TEST_COUNT, 1, 20_000)
    total = scenes.generate(train_n + test_n, seed, max_objects)
    order = np.random.default_rng([seed, 1]).permutation(len(total))
    return Dataset(
        id="shape-scenes", name="Shape scenes (captioned)", class_names=list(CLASS_NAMES),
        input_shape=(scenes.SIDE, scenes.SIDE, 3),
        train=make_split(total, np.sort(order[test_n:])),
        test=make_split(total, np.sort(order[:test_n])),
        description=SHAPE_SCENES.description)


SHAPE_SCENES = DatasetSource(
    "shape-scenes", "Shape scenes with captions (generated)",
    "64×64 scenes of 1–3 coloured circles, squares and triangles (two sizes) on a 3×3 grid, "
    "each with its caption from a small grammar, e.g. 'a red circle above a small blue "
    "square' (book chapter 9, captioning with attention). Generated offline: "
    f"{TRAIN_COUNT:,} train / {TEST_COUNT:,} test, the same for the same seed.",
    (scenes.SIDE, scenes.SIDE, 3), list(CLASS_NAMES), load, False,
    (Int("seed", None, 0, 2**31 - 1, "generator seed: the same seed draws the same scenes "
         "and split"),
     Int("max_objects", None, 1, scenes.MAX_OBJECTS, "at most this many shapes per scene"),
     Int("limit", None, 1, 100_000, f"training scenes to generate (default {TRAIN_COUNT})",
         step=100),
     Int("test_count", None, 1, 20_000, f"held-out scenes to generate (default {TEST_COUNT})",
         step=100)))
