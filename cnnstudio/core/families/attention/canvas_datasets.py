"""The RAM's datasets (book chapter 9): ``mnist-translated``, ``mnist-cluttered`` and the
book's ``mnist-noisy-collage``, made offline from the digits of ``mnist-5k`` (bundled) or
full ``mnist`` (``source`` option, once downloaded).

    dataset = load_dataset(DatasetConfig("mnist-cluttered", {"clutter": 8}))
    dataset.train / dataset.test        canvases at placements fixed by seeds 0 and 1
    dataset.digits, dataset.scene       what the RAM task draws fresh placements from

The fixed training canvases serve the picker's preview, the baselines (FC, conv) and
probes; the ``ram`` task places the same digits anew every epoch (canvas_batches.py).
The test canvases never change, so every model is measured on the same scenes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnnstudio.core.datasets.base import ArraySplit, Dataset, DatasetSource, fixed_split
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.attention.canvases import DIGIT_STATS, Scene, fixed_scenes
from cnnstudio.core.options import Choice, Float, Int

DIGIT_NAMES = [str(i) for i in range(10)]
TRAIN_SEED, TEST_SEED = 0, 1
SOURCES = ("mnist-5k", "mnist")

CANVAS_SPECS = (
    Int("canvas", None, 28, 512, "side of the square canvas in pixels (the digit is 28×28)",
        step=4, unit="px"),
    Int("clutter", None, 0, 64, "number of 8×8 fragments of other digits scattered on the "
        "canvas"),
    Float("noise", None, 0.0, 1.0, "Gaussian pixel noise, standard deviation as a fraction of "
          "full scale (0–1)"),
    Choice("source", None, SOURCES, "digits to place: mnist-5k (bundled, offline) or mnist "
           "(60,000, downloads once)"),
    Int("limit", None, 1, 10_000_000, "use only the first N training digits", step=1000),
)
OPTIONS_HELP = {spec.name: spec.help for spec in CANVAS_SPECS}


@dataclass
class CanvasDataset(Dataset):
    """A Dataset of canvases that also carries the digits and the scene that made them."""
    digits: ArraySplit | None = None          # the training digits (28×28)
    scene: Scene = field(default_factory=Scene)

    def info(self) -> dict[str, Any]:
        info = super().info()
        # How a dropped picture is brought to this canvas (predict, the prediction dock).
        info["scene"] = {"canvas": self.scene.canvas, "clutter": self.scene.clutter,
                         "noise": self.scene.noise, "off_centre": self.scene.off_centre,
                         "digit_side": int(self.digits.x.shape[1]) if self.digits else 28,
                         "digit_stats": DIGIT_STATS}
        return info


def _digits(source: str, progress):
    """(train digits, test digits) as ArraySplits of uint8 28×28×1."""
    if source == "mnist-5k":
        from cnnstudio.core.datasets.bundled import _mnist_5k_raw

        x, y = _mnist_5k_raw()
        train, test = fixed_split(y, test_per_class=50)
        return ArraySplit(x[train], y[train]), ArraySplit(x[test], y[test])
    if source == "mnist":
        from cnnstudio.core.datasets.keras_downloads import MNIST

        data = MNIST.load({}, progress)
        return data.train, data.test
    raise DataError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")


def _int(options, key, default):
    value = options.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise DataError(f"{key} must be an integer, got {value!r}")
    return value


def scene_from(options: dict, defaults: Scene) -> Scene:
    noise = options.get("noise", defaults.noise)
    if not isinstance(noise, (int, float)) or isinstance(noise, bool):
        raise DataError(f"noise must be a number between 0 and 1, got {noise!r}")
    scene = Scene(_int(options, "canvas", defaults.canvas),
                  _int(options, "clutter", defaults.clutter), defaults.fragment, float(noise),
                  defaults.off_centre)
    scene.check(28)
    return scene


class CanvasSource(DatasetSource):
    """A registry entry whose image side is the ``canvas`` option."""

    def shape_for(self, options: dict[str, Any]):
        canvas = options.get("canvas") or self.input_shape[0]
        return (int(canvas), int(canvas), 1)


def _source(dataset_id: str, name: str, description: str, defaults: Scene) -> CanvasSource:
    def load(options, progress) -> CanvasDataset:
        unknown = sorted(set(options) - set(OPTIONS_HELP))
        if unknown:
            raise DataError(f"unknown option '{unknown[0]}' for {dataset_id} — known: "
                            f"{', '.join(OPTIONS_HELP)}")
        scene = scene_from(options, defaults)
        train, test = _digits(options.get("source", "mnist-5k"), progress)
        limit = options.get("limit")
        if limit:
            limit = _int(options, "limit", 0)
            train = ArraySplit(train.x[:limit], train.y[:limit])
        side = scene.canvas
        return CanvasDataset(
            id=dataset_id, name=f"{name} ({side}×{side})", class_names=DIGIT_NAMES,
            input_shape=(side, side, 1),
            train=ArraySplit(fixed_scenes(train.x, scene, TRAIN_SEED), train.y),
            test=ArraySplit(fixed_scenes(test.x, scene, TEST_SEED), test.y),
            description=description, digits=train, scene=scene)

    return CanvasSource(dataset_id, name, description, (defaults.canvas, defaults.canvas, 1),
                        DIGIT_NAMES, load, False, CANVAS_SPECS)


TRANSLATED = _source(
    "mnist-translated", "Translated MNIST (offline)",
    "Each 28×28 digit at a random position on a 60×60 black canvas (Mnih et al. 2014; book "
    "chapter 9). Fresh positions every epoch for the RAM; fixed ones for testing.",
    Scene(canvas=60))
CLUTTERED = _source(
    "mnist-cluttered", "Cluttered translated MNIST (offline)",
    "A digit at a random position on a 60×60 canvas with 4 random 8×8 fragments of other "
    "digits (Mnih et al. 2014; book chapter 9).",
    Scene(canvas=60, clutter=4))
NOISY_COLLAGE = _source(
    "mnist-noisy-collage", "Noisy MNIST collage (offline)",
    "The book's chapter 9 collage: a 100×100 canvas with pixel noise, 8 fragments of other "
    "digits and the digit off-centre — the task the Recurrent Attention Model is made for.",
    Scene(canvas=100, clutter=8, noise=0.1, off_centre=0.4))

CANVAS_SOURCES = (TRANSLATED, CLUTTERED, NOISY_COLLAGE)


