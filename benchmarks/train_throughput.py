"""Engine vs plain ``model.fit``: same model, same data, alternating, in one process.

Training throughput is samples trained per second of wall time inside ``fit``
(first-epoch tracing included on both sides). Inside its ``fit`` the engine pays
for everything a studio run does that plain fit does not: per-batch events and
the metrics log, pause/stop/request checks, TensorBoard logs, an atomic
checkpoint and the probe images every epoch. A second row compares whole runs:
engine RunStarted → RunFinished (adds test evaluation, evaluation.json and the
final save) against plain fit + evaluate. Prints a table and, on the last line,
one JSON object.

    python benchmarks/train_throughput.py [--rounds 3] [--epochs 10] [--model lenet5]
                                          [--dataset mnist-5k]

Any architecture works: a family with its own task and ``train_step`` (``--model dcgan``)
is compared against the same task's data, model and compile run through plain ``fit``.

The default is the issue's own run (LeNet-5, mnist-5k, 10 epochs). A run pays some
costs once (the writer's shadow model, the first checkpoint and probe extractor),
so shorter runs show a lower ratio: 0.91 at 5 epochs on the README's machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

import numpy as np
from _common import add_rounds, emit, goal, spread

from cnnstudio.core.config import RunConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.core.training import engine
from cnnstudio.core.training.batches import arrays_for, split_indices
from cnnstudio.core.training.events import RunFinished, RunStarted
from cnnstudio.core.training.tasks import TASKS, make_optimizer


def plain_task_fit(config: RunConfig, arch) -> tuple[float, float]:
    """A family's own task (GAN, autoencoder…): its data, model and compile, plain ``fit``."""
    t = config.training
    data = load_dataset(config.dataset)
    task = TASKS.get(arch.task)
    keras().utils.set_random_seed(t.seed)
    builder = getattr(task, "build_model", None)
    model = (builder(arch, data.input_shape, data.num_classes, config.model.options, t)
             if builder else arch.build(data.input_shape, data.num_classes, config.model.options))
    fit_data = task.prepare(data, data.input_shape, t, lambda event: None)
    task.compile(model, t, fit_data)
    start = time.perf_counter()
    model.fit(**fit_data.fit_kwargs, epochs=t.epochs, verbose=0)
    fitted = time.perf_counter()
    task.evaluate(model, fit_data, t.batch_size)
    samples = fit_data.num_train * t.epochs
    return samples / (fitted - start), samples / (time.perf_counter() - start)


def plain_fit(config: RunConfig) -> tuple[float, float]:
    arch = ARCHITECTURES.get(config.model.id)
    if arch.task != "classification":
        return plain_task_fit(config, arch)
    t = config.training
    data = load_dataset(config.dataset)
    tr, val = split_indices(len(data.train), t.validation_split, t.seed)
    x, y = arrays_for(data.train, tr, data.input_shape)
    x_val, y_val = arrays_for(data.train, val, data.input_shape)
    keras().utils.set_random_seed(t.seed)
    model = ARCHITECTURES.get(config.model.id).build(data.input_shape, data.num_classes)
    model.compile(optimizer=make_optimizer(t), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x, y, batch_size=t.batch_size, epochs=t.epochs, validation_data=(x_val, y_val),
              shuffle=True, verbose=0)
    fitted = time.perf_counter()
    model.evaluate(data.test.x, data.test.y, batch_size=t.batch_size, verbose=0)
    samples = len(tr) * t.epochs
    return samples / (fitted - start), samples / (time.perf_counter() - start)


def engine_fit(config: RunConfig, root: str) -> tuple[float, float]:
    marks = {}

    def sink(event):
        if isinstance(event, RunStarted):
            marks["start"], marks["n"] = time.perf_counter(), event.num_train
        elif isinstance(event, RunFinished):
            marks["end"] = time.perf_counter()

    result = engine.run(config, runs_root=root, sink=sink)
    samples = marks["n"] * config.training.epochs
    return samples / result.summary["fit_seconds"], samples / (marks["end"] - marks["start"])


def main() -> None:
    parser = argparse.ArgumentParser()
    add_rounds(parser, 3, "alternating rounds, each a plain fit then an engine run")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--dataset", default="mnist-5k")
    # e.g. --model maskrcnn --dataset shapes --dataset-options '{"count": 400}' --batch-size 8
    parser.add_argument("--dataset-options", default="{}", help="the dataset's options, JSON")
    parser.add_argument("--batch-size", type=int, default=None)
    args = parser.parse_args()
    config = RunConfig()
    config.dataset.id, config.model.id = args.dataset, args.model
    config.dataset.options = json.loads(args.dataset_options)
    config.training.epochs = args.epochs
    if args.batch_size:
        config.training.batch_size = args.batch_size
    plain, studio = [], []
    with tempfile.TemporaryDirectory() as root:
        engine_fit(config, root)      # warm-up: imports, first graph traces
        for _ in range(args.rounds):
            plain.append(plain_fit(config))
            studio.append(engine_fit(config, root))
    p = statistics.median(v[0] for v in plain)
    s = statistics.median(v[0] for v in studio)
    pw = statistics.median(v[1] for v in plain)
    sw = statistics.median(v[1] for v in studio)
    # Each round pairs a plain run with the engine run right after it: the spread of these
    # per-round ratios says how much one figure can be trusted on a shared machine.
    ratios = [e[0] / q[0] for q, e in zip(plain, studio, strict=True)]
    print(f"samples/s, median of {args.rounds} alternating rounds")
    print(f"{'':<22}{'plain Keras':>14}{'engine':>12}{'ratio':>8}")
    print(f"{'training (fit)':<22}{p:>14,.0f}{s:>12,.0f}{s / p:>8.3f}")
    print(f"{'whole run':<22}{pw:>14,.0f}{sw:>12,.0f}{sw / pw:>8.3f}")
    print("per-round ratios: " + ", ".join(f"{r:.3f}" for r in ratios))
    goal("training ratio, engine / plain fit", round(s / p, 3), ">=", 0.95)
    emit(__file__, {"model": args.model,
                    "dataset": args.dataset, "epochs": args.epochs, "rounds": args.rounds,
                    "plain_samples_per_sec": round(p, 1), "engine_samples_per_sec": round(s, 1),
                    "ratio": round(s / p, 3), "whole_run_ratio": round(sw / pw, 3),
                    "round_ratios": [round(r, 3) for r in ratios],
                    "median_round_ratio": round(statistics.median(ratios), 3),
                    "ratio_spread": spread(ratios, 3),
                    "all_plain": [round(v[0]) for v in plain],
                    "all_engine": [round(v[0]) for v in studio],
                    "cores": os.cpu_count(), "backend": keras().backend.backend(),
                    "numpy": np.__version__})


if __name__ == "__main__":
    main()
