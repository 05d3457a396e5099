"""Task "captioning": how the engine trains the ``captioner`` on captioned scenes.

    task.check(dataset, options, training)           # captions or a clear refusal
    data = task.prepare(dataset, shape, cfg, sink)   # images → token sequences
    task.compile(model, cfg, data)                   # one optimizer; the loss is the model's
    hooks = task.probe_hooks(...)                    # captions + attention of 8 test scenes
    task.evaluate(model, data, batch_size)           # BLEU-4, exact match, attention hits

Token sequences are as long as the data's longest caption (+ <start>, <end>), so a
dataset of one-shape scenes trains on 6 steps rather than 22.
"""

from __future__ import annotations

import math

import numpy as np

from cnnstudio.core import augment
from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import Dataset
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.attention import caption_decode, caption_metrics, caption_probes
from cnnstudio.core.families.attention import shape_scenes as scenes
from cnnstudio.core.families.attention.captioner import TASK
from cnnstudio.core.families.attention.scene_dataset import SceneSplit
from cnnstudio.core.training import hyper
from cnnstudio.core.training.batches import split_indices
from cnnstudio.core.training.events import Notice
from cnnstudio.core.training.tasks import FitData

PROBE_COUNT = 8
EVAL_LIMIT = 1000        # test scenes captioned at the end of a run


def token_length(*splits: SceneSplit) -> int:
    return max(len(c.split()) for s in splits for c in s.captions) + 2


def probe_set(split: SceneSplit, count: int = PROBE_COUNT) -> caption_probes.ProbeSet:
    """The first test scenes with 1, 2 and 3 shapes in turn: every sentence form shows."""
    by_count = [list(np.flatnonzero(split.y == c)) for c in range(3)]
    picks: list[int] = []
    while len(picks) < min(count, len(split)):
        for group in by_count:
            if group and len(picks) < count:
                picks.append(int(group.pop(0)))
    picks.sort()
    return caption_probes.ProbeSet(split.x[picks], [split.captions[i] for i in picks],
                                   split.objects[picks])


class CaptioningTask:
    name = TASK

    def check(self, dataset: Dataset, options: dict, training: TrainConfig) -> None:
        if not isinstance(dataset.train, SceneSplit):
            raise DataError(f"the captioner learns from captioned scenes; dataset "
                            f"{dataset.id} has no captions (use shape-scenes)")
        if len(dataset.train) < 2:
            raise DataError("the captioner needs at least 2 training scenes")

    def build_model(self, arch, input_shape, num_classes, options, cfg: TrainConfig):
        return arch.build(input_shape, max(2, int(num_classes)), options)

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        self.check(dataset, {}, cfg)
        train, test = dataset.train, dataset.test
        if augment.is_active(cfg.augmentation):
            sink(Notice("augmentation is not used by the captioner: a flipped scene would "
                        "contradict its caption", level="info"))
        length = token_length(train, *([test] if len(test) else []))
        tokens = scenes.encode(train.captions, length)
        # Each written word's box cells, for the box_attention option (the encoder's grid
        # is the image over 8: three stride-2 convolutions).
        grid = (int(shape[0]) // 8, int(shape[1]) // 8)
        boxes = caption_metrics.attention_targets(train.captions, train.objects, length - 1,
                                                  grid)
        tr_idx, val_idx = split_indices(len(train), cfg.validation_split, cfg.seed)
        kwargs = {"x": train.x[tr_idx], "y": (tokens[tr_idx], boxes[tr_idx]),
                  "batch_size": cfg.batch_size, "shuffle": True}
        if len(val_idx):
            kwargs["validation_data"] = (train.x[val_idx], (tokens[val_idx], boxes[val_idx]))
        test_tokens = scenes.encode(test.captions, length) if len(test) else tokens[:0]
        return FitData(kwargs, (test.x, test_tokens), len(tr_idx), len(val_idx), len(test),
                       math.ceil(len(tr_idx) / cfg.batch_size),
                       extra={"class_names": list(dataset.class_names),
                              "test_captions": list(test.captions),
                              "test_objects": test.objects})

    def compile(self, model, cfg: TrainConfig, data: FitData | None = None) -> None:
        # No XLA: the unrolled decoder compiles for minutes and runs no faster on a CPU.
        model.compile(optimizer=hyper.make_optimizer(cfg, data.steps_per_epoch if data else None),
                      jit_compile=False)

    def callbacks(self, cfg: TrainConfig, data: FitData | None = None, run_dir=None) -> list:
        return hyper.callbacks(cfg, has_validation=bool(data and data.num_val))

    def evaluate(self, model, data: FitData, batch_size: int) -> dict[str, float]:
        """Greedy captions of the test scenes scored against their references
        (caption_metrics): what the model says on its own, not teacher-forced, with the
        attention it was trained with (a hard model reads its most attended cell)."""
        if data.num_test == 0:
            return {}
        images = data.test[0][:EVAL_LIMIT]
        decoded = caption_decode.greedy(model, images,
                                        hard=getattr(model, "attention", "soft") == "hard")
        return caption_metrics.caption_scores(decoded, data.extra["test_captions"][:len(images)],
                                              data.extra["test_objects"][:len(images)])

    def probe_hooks(self, dataset: Dataset, run_dir, sink, cfg: TrainConfig) -> list:
        split = dataset.test if len(dataset.test) else dataset.train
        longest = token_length(dataset.train, split) - 2
        return [caption_probes.CaptionRecorder(run_dir, probe_set(split), sink, longest)]


INSTANCE = CaptioningTask()   # registered by the family plugin
