"""Chapter 5's point, measured: training a head on cached bottleneck features versus fitting
the same head through the frozen base, per epoch, on the same images, in one process.

    python benchmarks/transfer_speed.py [--base vgg16] [--size 64] [--images 1500] [--epochs 3]
                                        [--rounds 1]

The base uses random weights (weights=None), so it runs offline; the cost per image is
the same with ImageNet weights. Prints a table, then one JSON object on the last line
with the per-epoch speed-up ("ratio"); the issue asks for at least 5×. With several
rounds (each builds both models afresh) the times are medians and ``ratio_spread`` is the
spread of the rounds' own ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _common import add_rounds, emit, goal, spread

from cnnstudio.core.config import DatasetConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.families.classification.transfer_task import bottleneck_features
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.registry import ARCHITECTURES


class EpochTimer(keras().callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.t0)


def timed_fit(model, x, y, epochs, batch_size):
    timer = EpochTimer()
    model.compile(optimizer=keras().optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[timer])
    # The first epoch includes tracing: the steady state is what a user waits for.
    return statistics.median(timer.times[1:] or timer.times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="vgg16")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--images", type=int, default=1500)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    add_rounds(parser, 1, "rounds, each timing both sides with freshly built models")
    args = parser.parse_args()
    data = load_dataset(DatasetConfig("mnist-5k", {"size": args.size}))
    x = data.train.x[:args.images].astype("float32")
    y = data.train.y[:args.images]
    arch = ARCHITECTURES.get("transfer")
    opts = {"base": args.base, "weights": "none", "mode": "feature-extraction"}
    bases, caches, cacheds = [], [], []
    for _ in range(args.rounds):
        keras().utils.set_random_seed(0)
        model = arch.build(data.input_shape, data.num_classes, opts)
        bases.append(timed_fit(model, x, y, args.epochs, args.batch_size))
        t0 = time.perf_counter()
        feats, labels = bottleneck_features(model.base, (x, y), batch_size=64)
        caches.append(time.perf_counter() - t0)
        keras().utils.set_random_seed(0)
        model = arch.build(data.input_shape, data.num_classes, opts)
        cacheds.append(timed_fit(model, feats, labels, max(args.epochs, 3), args.batch_size))
    through_base, cached = statistics.median(bases), statistics.median(cacheds)
    cache_seconds = statistics.median(caches)
    ratio = through_base / cached
    print(f"{'base':<14}{'images':>8}{'epoch via base (s)':>20}{'epoch cached (s)':>18}"
          f"{'cache once (s)':>16}{'ratio':>8}")
    print(f"{args.base:<14}{len(y):>8}{through_base:>20.2f}{cached:>18.3f}{cache_seconds:>16.2f}"
          f"{ratio:>7.1f}×")
    goal("per-epoch speed-up, cached / through the base", ratio, ">=", 5, "×")
    emit(__file__, {"base": args.base, "size": args.size,
                    "images": int(len(y)), "epoch_through_base_s": round(through_base, 3),
                    "epoch_cached_s": round(cached, 4), "cache_once_s": round(cache_seconds, 2),
                    "ratio": round(ratio, 1), "meets_5x": ratio >= 5,
                    "feature_dim": int(np.shape(feats)[1]), "rounds": args.rounds,
                    "ratio_spread": spread((b / c for b, c in zip(bases, cacheds, strict=True)),
                                           1)})


if __name__ == "__main__":
    main()
