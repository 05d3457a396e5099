"""Task "pix2pix": how the engine trains pix2pix on a paired dataset.

    task.check(dataset, options, cfg)                # DataError unless it has input/target pairs
    model = task.build_model(arch, shape, ...)       # G's output channels: the dataset's targets
    data = task.prepare(dataset, shape, cfg, sink)   # fit(x=inputs, y=targets)
    task.compile(model, cfg, data)                   # two optimizers (Adam β₁ = 0.5)
    hooks = task.probe_hooks(...)                    # 8 fixed test pairs translated every epoch
    task.evaluate(model, data, batch_size)           # l1_test, sharpness_test, target_sharpness

The engine hands ``build_model`` the input shape alone, but G must know the targets' shape
(edges2shapes: 1 channel in, 3 out). ``check`` sees the dataset first (the engine calls it
before building), so it notes the target shape for that input shape, and ``build_model``
reads it back.
"""

from __future__ import annotations

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import ArraySplit, Dataset
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.generative import pix2pix_probes as probes
from cnnstudio.core.families.generative.gan_task import make_optimizer
from cnnstudio.core.families.generative.translation_data import PAIRED_SOURCES, PairedDataset
from cnnstudio.core.training.events import Notice
from cnnstudio.core.training.tasks import FitData

EVALUATE_AT_MOST = 1000     # test pairs evaluate translates


def paired(dataset: Dataset) -> PairedDataset:
    """``dataset`` if pix2pix can learn from it, else a DataError saying why and what can."""
    names = " or ".join(source.id for source in PAIRED_SOURCES)
    if not isinstance(dataset, PairedDataset):
        raise DataError(f"pix2pix learns to turn input images into target images from pairs; "
                        f"dataset {dataset.id} has images without targets. Pick a paired "
                        f"dataset: {names}")
    if not isinstance(dataset.train, ArraySplit) or len(dataset.train) == 0:
        raise DataError(f"dataset {dataset.id} has no training pairs")
    if tuple(dataset.target_shape[:2]) != tuple(dataset.input_shape[:2]):
        raise DataError(f"pix2pix's U-Net keeps the image size: dataset {dataset.id} pairs "
                        f"{dataset.input_shape[0]}×{dataset.input_shape[1]} inputs with "
                        f"{dataset.target_shape[0]}×{dataset.target_shape[1]} targets")
    return dataset


class Pix2PixTask:
    name = "pix2pix"

    def __init__(self):
        self._targets: dict[tuple, tuple] = {}     # input shape → target shape (see above)

    def check(self, dataset: Dataset, options: dict, cfg: TrainConfig) -> None:
        data = paired(dataset)
        self._targets[tuple(data.input_shape)] = tuple(data.target_shape)

    def build_model(self, arch, input_shape, num_classes, options, cfg: TrainConfig):
        from cnnstudio.core.families.generative.pix2pix import _build

        target = self._targets.get(tuple(input_shape))
        return _build(tuple(input_shape), 2, **arch.options(options), target_shape=target)

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        data = paired(dataset)
        if cfg.validation_split:
            sink(Notice("pix2pix trains on every training pair and is measured on the test "
                        "pairs: validation_split is not used.", level="info"))
        x, y = data.train.x, data.train_targets
        test = (data.test.x, data.test_targets)
        steps = -(-len(x) // cfg.batch_size)
        return FitData({"x": x, "y": y, "batch_size": cfg.batch_size, "shuffle": True}, test,
                       len(x), 0, len(test[0]), steps,
                       extra={"target_shape": list(data.target_shape)})

    def compile(self, model, cfg: TrainConfig, data: FitData | None = None) -> None:
        steps = data.steps_per_epoch if data else None
        model.compile(d_optimizer=make_optimizer(cfg, steps),
                      g_optimizer=make_optimizer(cfg, steps))

    def probe_hooks(self, dataset: Dataset, run_dir, sink, cfg: TrainConfig) -> list:
        """The same 8 test pairs (training pairs without a test split), picked by the seed."""
        data = paired(dataset)
        x, y = (data.test.x, data.test_targets) if len(data.test) else \
            (data.train.x, data.train_targets)
        picks = probes.probe_picks(len(x), cfg.seed)
        return [probes.TranslationRecorder(run_dir, x[picks], y[picks], sink)]

    def callbacks(self, cfg: TrainConfig, data: FitData | None = None, run_dir=None) -> list:
        return []

    def evaluate(self, model, data: FitData, batch_size: int) -> dict[str, float]:
        """On up to EVALUATE_AT_MOST test pairs: mean L1 (pixels 0..1) of G's images to the
        targets, and the sharpness of both (pix2pix_probes.sharpness)."""
        x, y = data.test
        if not len(x):
            return {}
        x, y = x[:EVALUATE_AT_MOST], y[:EVALUATE_AT_MOST]
        outputs = model.translate(x)
        return {"l1_test": probes.mean_l1(outputs, y),
                "sharpness_test": probes.sharpness(outputs),
                "target_sharpness": probes.sharpness(y)}


INSTANCE = Pix2PixTask()   # registered by the family plugin
