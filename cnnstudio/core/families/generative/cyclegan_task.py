"""Task "cyclegan": how the engine trains CycleGAN on two unpaired domains.

    task.check(dataset, options, cfg)                # DataError unless the data is unpaired
    data = task.prepare(dataset, shape, cfg, sink)   # batches (a images, b images), uint8
    task.compile(model, cfg, data)                   # four optimizers (Adam β₁ = 0.5)
    hooks = task.probe_hooks(...)                    # 6 test images per domain round the cycle
    task.evaluate(model, data, batch_size)           # cycle_l1_test, … on the test images

Each batch pairs A images with B images drawn in an independent order, so no a is tied
to any b: the model never sees a pair. Both orders come from (seed, epoch), so a resumed
run repeats them; an epoch lasts as many batches as the larger domain fills, the smaller
one being cycled.
"""

from __future__ import annotations

import math

import numpy as np

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import Dataset
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.generative import cyclegan_probes as probes
from cnnstudio.core.families.generative.gan_task import make_optimizer
from cnnstudio.core.families.generative.unpaired_data import UNPAIRED_SOURCES, UnpairedDataset
from cnnstudio.core.imaging import resize_batch
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.training.epoch_order import EpochOrdered
from cnnstudio.core.training.events import Notice
from cnnstudio.core.training.tasks import FitData

EVALUATE_LIMIT = 500        # test images per domain that evaluate sends round the cycle


class CycleBatches(EpochOrdered, keras().utils.PyDataset):
    """Batch i of epoch e: (A images, B images), each domain in its own order of that epoch."""

    def __init__(self, a, b, batch_size: int, seed: int):
        super().__init__(workers=1, use_multiprocessing=False)
        self.a, self.b, self.batch_size, self.seed = a, b, int(batch_size), int(seed)

    def __len__(self) -> int:
        return math.ceil(max(len(self.a), len(self.b)) / self.batch_size)

    def _cycled(self, n: int, rng) -> np.ndarray:
        rounds = math.ceil(len(self) * self.batch_size / n)
        return np.concatenate([rng.permutation(n) for _ in range(rounds)])

    def draw(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        return (self._cycled(len(self.a), self.rng(epoch, 0)),
                self._cycled(len(self.b), self.rng(epoch, 1)))

    def __getitem__(self, index):
        _, pos, (order_a, order_b) = self.locate(index)
        window = slice(pos * self.batch_size, (pos + 1) * self.batch_size)
        return self.a[order_a[window]], self.b[order_b[window]]


def unpaired(dataset: Dataset) -> UnpairedDataset:
    """The dataset, or a DataError saying why CycleGAN cannot train on it."""
    if isinstance(dataset, UnpairedDataset):
        return dataset
    names = " or ".join(source.id for source in UNPAIRED_SOURCES)
    what = ("pairs each input with its target image (pix2pix's kind of data)"
            if hasattr(dataset, "train_targets") else "is not made of two image domains")
    raise DataError(f"cyclegan learns from two unpaired image domains, and dataset "
                    f"{dataset.id} {what}: pick an unpaired dataset ({names})")


def _domain(dataset: UnpairedDataset, split: str, which: int, shape) -> np.ndarray:
    return resize_batch(dataset.domain(split, which), tuple(shape))


class CycleGanTask:
    name = "cyclegan"

    def build_model(self, arch, input_shape, num_classes, options, cfg: TrainConfig):
        return arch.build(input_shape, max(2, int(num_classes)), options)

    def check(self, dataset: Dataset, options: dict, cfg: TrainConfig) -> None:
        unpaired(dataset)

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        data = unpaired(dataset)
        a, b = _domain(data, "train", 0, shape), _domain(data, "train", 1, shape)
        if not len(a) or not len(b):
            raise DataError(f"dataset {dataset.id} needs training images in both domains, "
                            f"has {len(a)} in A and {len(b)} in B")
        if cfg.validation_split:
            sink(Notice("CycleGAN trains on every training image and has no validation set: "
                        "validation_split is not used.", level="info"))
        test = (_domain(data, "test", 0, shape), _domain(data, "test", 1, shape))
        batches = CycleBatches(a, b, cfg.batch_size, cfg.seed)
        return FitData({"x": batches}, test, len(a) + len(b), 0, len(test[0]) + len(test[1]),
                       len(batches), extra={"class_names": list(dataset.class_names),
                                            "batches": batches})

    def compile(self, model, cfg: TrainConfig, data: FitData | None = None) -> None:
        steps = data.steps_per_epoch if data else None
        model.compile(*(make_optimizer(cfg, steps) for _ in range(4)))

    def probe_hooks(self, dataset: Dataset, run_dir, sink, cfg: TrainConfig) -> list:
        data = unpaired(dataset)
        split = "test" if len(data.domain("test", 0)) and len(data.domain("test", 1)) \
            else "train"
        picked = []
        for which in (0, 1):
            images = data.domain(split, which)
            picked.append(images[probes.probe_picks(len(images), cfg.seed + which)])
        return [probes.CycleRecorder(run_dir, picked[0], picked[1], sink)]

    def evaluate(self, model, data: FitData, batch_size: int) -> dict[str, float]:
        """Round-trip errors on the test images (pixels 0..1) and how real D finds the
        translations (LSGAN outputs: 1 real, 0 fake)."""
        a, b = (x[:EVALUATE_LIMIT] for x in data.test)
        if not len(a) or not len(b):
            return {}
        g_a, f_g_a = model.cycle(a, "a2b")
        f_b, g_f_b = model.cycle(b, "b2a")
        cycle_a, cycle_b = probes.round_trip_l1(a, f_g_a), probes.round_trip_l1(b, g_f_b)
        return {"cycle_l1_test": 0.5 * (cycle_a + cycle_b), "cycle_a_test": cycle_a,
                "cycle_b_test": cycle_b,
                "d_b_on_g_a": _realness(model.d_b, g_a), "d_a_on_f_b": _realness(model.d_a, f_b)}


def _realness(discriminator, images) -> float:
    from cnnstudio.core.families.generative.translation_networks import to_unit

    return float(np.mean(np.asarray(discriminator(to_unit(images), training=False))))


INSTANCE = CycleGanTask()   # registered by the family plugin
