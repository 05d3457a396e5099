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

Three runs a round: plain ``fit`` with Keras's defaults (in a fresh process with TensorFlow's
own thread settings, as a user's script gets them), plain ``fit`` given the engine's steps per
call and thread settings ("same"), and the engine.

The default is the issue's own run (LeNet-5, mnist-5k, 10 epochs). A run pays some
costs once (the writer's shadow model, the first checkpoint and probe extractor),
so shorter runs show a lower ratio: 0.91 at 5 epochs on the README's machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
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


def plain_task_fit(config: RunConfig, arch, spe: int = 1) -> tuple[float, float]:
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
    model.steps_per_execution = spe          # what compile(steps_per_execution=…) sets
    start = time.perf_counter()
    model.fit(**fit_data.fit_kwargs, epochs=t.epochs, verbose=0)
    fitted = time.perf_counter()
    task.evaluate(model, fit_data, t.batch_size)
    samples = fit_data.num_train * t.epochs
    return samples / (fitted - start), samples / (time.perf_counter() - start)


def plain_fit(config: RunConfig, spe: int = 1) -> tuple[float, float]:
    """Plain ``fit`` as a user writes it; ``spe``: Keras's steps_per_execution (1: its default)."""
    arch = ARCHITECTURES.get(config.model.id)
    if arch.task != "classification":
        return plain_task_fit(config, arch, spe)
    t = config.training
    data = load_dataset(config.dataset)
    tr, val = split_indices(len(data.train), t.validation_split, t.seed)
    x, y = arrays_for(data.train, tr, data.input_shape)
    x_val, y_val = arrays_for(data.train, val, data.input_shape)
    keras().utils.set_random_seed(t.seed)
    model = ARCHITECTURES.get(config.model.id).build(data.input_shape, data.num_classes)
    model.compile(optimizer=make_optimizer(t), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], steps_per_execution=spe)
    start = time.perf_counter()
    model.fit(x, y, batch_size=t.batch_size, epochs=t.epochs, validation_data=(x_val, y_val),
              shuffle=True, verbose=0)
    fitted = time.perf_counter()
    model.evaluate(data.test.x, data.test.y, batch_size=t.batch_size, verbose=0)
    samples = len(tr) * t.epochs
    return samples / (fitted - start), samples / (time.perf_counter() - start)


def plain_default(argv: list[str]) -> tuple[float, float]:
    """Plain fit exactly as a user gets it: a fresh process with TensorFlow's own thread
    settings (the studio sets one thread per op on two cores, and in this process that
    would speed plain fit up too)."""
    env = {**os.environ, "CNNSTUDIO_TF_THREADS": "default"}
    done = subprocess.run([sys.executable, __file__, *argv, "--plain-child"], env=env,
                          capture_output=True, text=True, check=True)
    return tuple(json.loads(done.stdout.strip().splitlines()[-1]))


def engine_fit(config: RunConfig, root: str) -> tuple[float, float, int]:
    marks = {}

    def sink(event):
        if isinstance(event, RunStarted):
            marks["start"], marks["n"] = time.perf_counter(), event.num_train
        elif isinstance(event, RunFinished):
            marks["end"] = time.perf_counter()

    result = engine.run(config, runs_root=root, sink=sink)
    samples = marks["n"] * config.training.epochs
    return (samples / result.summary["fit_seconds"], samples / (marks["end"] - marks["start"]),
            int(result.summary.get("steps_per_call", 1)))


def main() -> None:
    parser = argparse.ArgumentParser()
    add_rounds(parser, 3, "alternating rounds, each a plain fit then an engine run")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--dataset", default="mnist-5k")
    # e.g. --model maskrcnn --dataset shapes --dataset-options '{"count": 400}' --batch-size 8
    parser.add_argument("--dataset-options", default="{}", help="the dataset's options, JSON")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--plain-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    config = RunConfig()
    config.dataset.id, config.model.id = args.dataset, args.model
    config.dataset.options = json.loads(args.dataset_options)
    config.training.epochs = args.epochs
    if args.batch_size:
        config.training.batch_size = args.batch_size
    if args.plain_child:             # one plain fit in TensorFlow's own settings
        print(json.dumps(plain_fit(config)))
        return
    default, same, studio = [], [], []
    with tempfile.TemporaryDirectory() as root:
        # Warm-up: imports, first graph traces, and the steps per call the engine settles on
        # (plain fit is then given the same count: "same").
        spe = engine_fit(config, root)[2]
        for _ in range(args.rounds):
            default.append(plain_default(sys.argv[1:]))
            same.append(plain_fit(config, spe))
            studio.append(engine_fit(config, root))
    d = statistics.median(v[0] for v in default)
    q = statistics.median(v[0] for v in same)
    s = statistics.median(v[0] for v in studio)
    dw = statistics.median(v[1] for v in default)
    sw = statistics.median(v[1] for v in studio)
    chosen = sorted({v[2] for v in studio})
    # Each round runs the three side by side: the spread of the per-round ratios says how
    # much one figure can be trusted on a shared machine.
    vs_default = [e[0] / p[0] for p, e in zip(default, studio, strict=True)]
    vs_same = [e[0] / p[0] for p, e in zip(same, studio, strict=True)]
    print(f"samples/s, median of {args.rounds} alternating rounds; the engine chose "
          f"{', '.join(map(str, chosen))} steps per call")
    print(f"{'':<34}{'samples/s':>12}{'engine / it':>14}")
    print(f"{'plain fit, Keras defaults':<34}{d:>12,.0f}{s / d:>14.3f}")
    print(f"{f'plain fit, steps_per_execution={spe}':<34}{q:>12,.0f}{s / q:>14.3f}")
    print(f"{'engine':<34}{s:>12,.0f}")
    print(f"{'whole run vs plain defaults':<34}{sw:>12,.0f}{sw / dw:>14.3f}")
    print("per-round ratio vs default: " + ", ".join(f"{r:.3f}" for r in vs_default))
    print("per-round ratio vs same:    " + ", ".join(f"{r:.3f}" for r in vs_same))
    goal("ratio_vs_default (engine / plain fit, defaults)", round(s / d, 3), ">=", 1.4)
    goal("ratio_vs_same (engine / plain fit, same steps per call)", round(s / q, 3), ">=", 0.95)
    emit(__file__, {"model": args.model,
                    "dataset": args.dataset, "epochs": args.epochs, "rounds": args.rounds,
                    "plain_default_samples_per_sec": round(d, 1),
                    "plain_same_spe_samples_per_sec": round(q, 1),
                    "engine_samples_per_sec": round(s, 1),
                    "steps_per_execution": chosen[0] if len(chosen) == 1 else chosen,
                    "ratio_vs_default": round(s / d, 3), "ratio_vs_same": round(s / q, 3),
                    "whole_run_ratio": round(sw / dw, 3),
                    "round_ratios_vs_default": [round(r, 3) for r in vs_default],
                    "round_ratios_vs_same": [round(r, 3) for r in vs_same],
                    "ratio_vs_default_spread": spread(vs_default, 3),
                    "ratio_vs_same_spread": spread(vs_same, 3),
                    "all_default": [round(v[0]) for v in default],
                    "all_same": [round(v[0]) for v in same],
                    "all_engine": [round(v[0]) for v in studio],
                    "cores": os.cpu_count(), "backend": keras().backend.backend(),
                    "numpy": np.__version__})


if __name__ == "__main__":
    main()
