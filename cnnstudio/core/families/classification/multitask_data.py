"""Datasets with several label sets per image, for multi-task learning (book chapter 5).

    scenes-multitask   generated scenes of 1–4 coloured shapes; tasks: the shape of the
                       largest object, its colour, and how many objects there are
    mnist-multitask    mnist-5k's digits; tasks: the digit, its parity, whether it is ≥ 5

A ``MultiTaskDataset`` is a plain ``Dataset`` whose ``y`` / ``class_names`` are its first
task (so every classification view still works on it) and whose splits carry every task's
labels (``split.tasks[name]``), with ``task_classes[name]`` the class names of each. A
model's head for the task at place i is named ``task<i+1>`` (``head_key``), whatever the
dataset. Light: numpy only (the scenes are drawn here, without the detection family's).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from cnnstudio.core.datasets.base import ArraySplit, Dataset, DatasetSource
from cnnstudio.core.errors import DataError
from cnnstudio.core.options import Int

SHAPES = ("circle", "square", "triangle", "cross")
COLOURS = {"red": (230, 50, 45), "green": (50, 190, 70), "blue": (60, 110, 245),
           "yellow": (235, 215, 45)}
COUNTS = ("1", "2", "3", "4")
BACKGROUND = (24, 24, 28)
REACH = 1.35
# Each dataset's tasks in order (head 1, 2, 3 of a multitask model) and their class names.
SCENE_TASKS = {"shape": list(SHAPES), "colour": list(COLOURS), "count": list(COUNTS)}
MNIST_TASKS = {"digit": [str(i) for i in range(10)], "parity": ["even", "odd"],
               "high": ["< 5", "≥ 5"]}
TASKS_OF = {"scenes-multitask": SCENE_TASKS, "mnist-multitask": MNIST_TASKS}
MAX_HEADS = 3


class HeadCounts(int):
    """The first task's class count (what the engine calls ``num_classes``) that also knows
    every task's: the engine hands ``dataset.num_classes`` to the task's build_model, and
    this is how a multi-task model learns its heads' sizes without the engine knowing."""

    def __new__(cls, heads: dict[str, int]):
        value = super().__new__(cls, next(iter(heads.values())))
        value.heads = dict(heads)
        return value


@dataclass
class MultiTaskSplit(ArraySplit):
    tasks: dict[str, np.ndarray] = field(default_factory=dict)   # name → int32 (N,)

    def subset(self, indices) -> MultiTaskSplit:
        idx = np.asarray(indices, dtype=np.int64)
        return MultiTaskSplit(self.x[idx], self.y[idx],
                              tasks={k: v[idx] for k, v in self.tasks.items()})


@dataclass
class MultiTaskDataset(Dataset):
    task_classes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return HeadCounts({k: len(v) for k, v in self.task_classes.items()})

    def info(self):
        return {**super().info(), "tasks": {k: list(v) for k, v in self.task_classes.items()}}


def make_dataset(dataset_id, name, description, x, tasks: dict, task_classes: dict,
                 train_idx, test_idx) -> MultiTaskDataset:
    first = next(iter(tasks))
    whole = MultiTaskSplit(x, tasks[first], tasks=tasks)
    return MultiTaskDataset(
        id=dataset_id, name=name, class_names=list(task_classes[first]),
        input_shape=tuple(x.shape[1:]), train=whole.subset(train_idx),
        test=whole.subset(test_idx), description=description, task_classes=task_classes)


# -- scenes ---------------------------------------------------------------------------------
def shape_mask(kind: str, cy: float, cx: float, r: float, side: int):
    """(rows, cols, mask): one shape of half-size ``r`` centred at (cy, cx), as a boolean
    mask over the slices of the image it covers (its box, not the whole image: fast)."""
    reach = REACH * r + 1
    y0, y1 = max(0, int(cy - reach)), min(side, int(cy + reach) + 1)
    x0, x1 = max(0, int(cx - reach)), min(side, int(cx + reach) + 1)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
    dy, dx = yy - cy, xx - cx
    if kind == "circle":
        mask = dy * dy + dx * dx <= r * r
    elif kind == "square":
        mask = (np.abs(dy) <= r * 0.85) & (np.abs(dx) <= r * 0.85)
    elif kind == "triangle":      # apex up: inside when below the two slanted edges
        mask = (dy <= r * 0.8) & (np.abs(dx) <= (dy + r) * 0.6)
    else:                         # cross
        arm = r * 0.35
        mask = (((np.abs(dy) <= r) & (np.abs(dx) <= arm))
                | ((np.abs(dx) <= r) & (np.abs(dy) <= arm)))
    return slice(y0, y1), slice(x0, x1), mask


def place(rng: np.random.Generator, radii, side: int):
    """Centres for objects of half-sizes ``radii`` that keep a gap (REACH: the farthest
    corner of any shape of half-size r is 1.35 r away, a triangle's); None when they do not
    fit (100 tries each)."""
    placed = np.zeros((0, 3))
    for r in radii:
        tries = rng.uniform(REACH * r + 1, side - REACH * r - 1, size=(100, 2))   # (y, x)
        gaps = np.hypot(tries[:, None, 0] - placed[:, 0], tries[:, None, 1] - placed[:, 1])
        free = np.flatnonzero((gaps > REACH * (r + placed[:, 2]) + 2).all(axis=1))
        if not len(free):
            return None
        placed = np.vstack([placed, [*tries[free[0]], r]])
    return [tuple(p) for p in placed]


def draw_scene(rng: np.random.Generator, side: int) -> tuple[np.ndarray, tuple[int, int, int]]:
    """One scene and its labels (shape, colour of the largest object; object count − 1).
    The largest object is at least 1.5× the next in size (so larger in area whatever the two
    shapes), and no two objects touch, so every label can be read from the picture."""
    count = int(rng.integers(1, 5))
    placed = None
    while placed is None:           # a crowded draw is drawn again: counts stay uniform
        big = rng.uniform(0.17, 0.24) * side
        radii = [big] + [rng.uniform(0.08, big / side / 1.5) * side for _ in range(count - 1)]
        placed = place(rng, radii, side)
    image = np.empty((side, side, 3), np.uint8)
    image[:] = BACKGROUND
    kinds = rng.integers(len(SHAPES), size=count)
    colours = rng.integers(len(COLOURS), size=count)
    palette = list(COLOURS.values())
    for (cy, cx, r), kind, colour in zip(placed, kinds, colours, strict=True):
        rows, cols, mask = shape_mask(SHAPES[kind], cy, cx, r, side)
        image[rows, cols][mask] = palette[colour]
    return image, (int(kinds[0]), int(colours[0]), count - 1)


@functools.cache
def generate_scenes(count: int, side: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = np.empty((count, side, side, 3), np.uint8)
    labels = np.empty((count, 3), np.int32)
    for n in range(count):
        images[n], labels[n] = draw_scene(rng, side)
    for start in range(0, count, 512):             # a little sensor noise, a chunk at a time
        chunk = images[start:start + 512]
        noise = rng.standard_normal(chunk.shape, dtype=np.float32) * 6
        images[start:start + 512] = np.clip(chunk + noise, 0, 255).astype(np.uint8)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def _load_scenes(options, progress) -> MultiTaskDataset:
    side = int(options.get("size") or 48)
    count = int(options.get("count") or 6000)
    test = int(options.get("test_count") or 1000)
    # Test scenes from their own seed: the same test set whatever the training count.
    (x_train, y_train), (x_test, y_test) = (generate_scenes(count, side, 0),
                                            generate_scenes(test, side, 1))
    x, labels = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
    tasks = {name: labels[:, i] for i, name in enumerate(SCENE_TASKS)}
    return make_dataset("scenes-multitask", f"Multi-task shape scenes ({side}×{side})",
                        SCENES.description, x, tasks, SCENE_TASKS,
                        np.arange(count), np.arange(count, count + test))


SCENES = DatasetSource(
    id="scenes-multitask", name="Multi-task shape scenes (generated)",
    description="1–4 coloured shapes (circle, square, triangle, cross; red, green, blue, "
                "yellow) on a dark ground. Three tasks per image: the shape of the largest "
                "object, its colour, and how many objects there are.",
    input_shape=(48, 48, 3), class_names=list(SHAPES), load=_load_scenes,
    specs=(Int("size", 48, 24, 128, "image side", unit="px"),
           Int("count", 6000, 20, 100000, "training scenes"),
           Int("test_count", 1000, 10, 20000, "test scenes")))


# -- digits ---------------------------------------------------------------------------------
def _load_mnist(options, progress) -> MultiTaskDataset:
    from cnnstudio.core.datasets.bundled import _load_mnist_5k

    digits = _load_mnist_5k(options, progress)
    x = np.concatenate([digits.train.x, digits.test.x])
    y = np.concatenate([digits.train.y, digits.test.y]).astype(np.int32)
    tasks = {"digit": y, "parity": y % 2, "high": (y >= 5).astype(np.int32)}
    n_train = len(digits.train)
    train, test = np.arange(n_train), np.arange(n_train, len(y))
    return make_dataset("mnist-multitask", "MNIST multi-task (5,000 digits, offline)",
                        MNIST.description, x, tasks, MNIST_TASKS, train, test)


MNIST = DatasetSource(
    id="mnist-multitask", name="MNIST multi-task (5,000 digits, offline)",
    description="mnist-5k's digits with three tasks each: the digit, its parity (even/odd) "
                "and whether it is 5 or more.",
    input_shape=(28, 28, 1), class_names=MNIST_TASKS["digit"], load=_load_mnist,
    specs=(Int("size", None, 28, 512, "upscale the 28×28 digits to size×size", unit="px"),))


def dataset_tasks(dataset) -> dict[str, list[str]]:
    """name → class names of each task of ``dataset``; a DataError for a dataset of one label
    set, naming the tasks a multi-task model needs and the datasets that have them."""
    tasks = getattr(dataset, "task_classes", None)
    if not tasks:
        raise DataError(no_tasks_message(f"dataset {dataset.id}"))
    return tasks


def head_key(position: int) -> str:
    """Output name (and log-key prefix) of the dataset's task at ``position`` (0-based)."""
    return f"task{position + 1}"


def selected_heads(subset: str, task_names) -> list[tuple[str, str]]:
    """(head key, task name) of the heads ``subset`` trains, in the dataset's order."""
    names = list(task_names)
    picks = range(len(names)) if subset in ("all", None) else \
        [int(p) - 1 for p in str(subset).split("+")]
    missing = [p + 1 for p in picks if p >= len(names)]
    if missing:
        raise DataError(f"tasks={subset}: this dataset has {len(names)} tasks "
                        f"({', '.join(names)}), not task {missing[0]}")
    return [(head_key(p), names[p]) for p in picks]


def no_tasks_message(what: str) -> str:
    known = "; ".join(f"{d} ({', '.join(t)})" for d, t in TASKS_OF.items())
    return (f"a multi-task model needs several labels per image (one per task: e.g. shape, "
            f"colour and count); {what} has one label set. Use a multi-task dataset: {known}")

