"""The Recurrent Attention Model against the paper's FC and conv baselines (book chapter 9).

On ``mnist-translated`` and ``mnist-cluttered`` (60×60, 4 fragments) built from mnist-5k,
in one run: the RAM (6 glimpses of 12×12 at 3 scales), the FC-256 baseline (two hidden
layers of 256) and the paper's 2-layer conv baseline (8 10×10 filters at stride 5, then
256 units), trained on the same data — the same digits
placed afresh every epoch by the same seeded generator — each under a fixed compute
budget, then measured on the same 500 fixed test canvases. The trained RAM is measured a
second time looking at uniformly random places instead of where its location network
points (``random_policy_cluttered_error``).

    python benchmarks/ram_accuracy.py [--minutes 20] [--hint-epochs 0] [--patch-net dense]
                                      [--glimpse-mix multiply]
                                      [--schedule cosine] [--seed 0]
                                      [--ram-options '{"std": 0.1}']
                                      [--datasets translated,cluttered]
                                      [--models ram,fc-256,conv-2[,conv-pool]]
                                      [--progress 0]

``--ram-options`` sets further options of the ``ram`` model (any the studio offers, JSON;
not the sensor the issue fixes); the JSON line records every RAM option used (with
``samples`` M > 1 the RAM answers by averaging M sampled runs, and its line also prints
the error of the one run at the location means). ``--datasets`` and ``--models`` run a
part of the benchmark (a skipped one's keys are null): a model's figures do not depend on
the others', so an experiment on the RAM need not retrain the baselines. Each model's
line gives its last epoch's training error too (the RAM's: of its sampled runs).

``--models ram,conv-pool`` adds the studio's stronger conv net (two 5×5 conv layers with
pooling; keys ``conv_pool_*``), which no goal names: it shows what a modern conv net does
with the same budget.

``--minutes`` is the budget per dataset on 2 CPU cores, split RAM 60 % / conv 25 % /
FC 15 %; training stops at the first epoch end past a model's share. It is counted in
CPU time (2 × minutes × 60 CPU-seconds: what 2 busy cores give in that many minutes), so
a machine shared with other work gives every model the same compute, only later.
Errors are fractions (0.05 = 5 %).
Goals (issue 9): RAM below FC on both datasets and below conv on cluttered; translated
error ≤ 0.05; random fixations at least twice the learned policy's error.

The RAM's glimpse network joins its patch ("what") and location ("where") pathways by
multiplying them (``--glimpse-mix multiply``, the default here; Ba, Mnih & Kavukcuoglu
2015): under a 20-minute CPU budget on 5,000 digits that is what carries the RAM below the
paper's conv net on cluttered canvases. ``--glimpse-mix add`` is the paper's sum, the
studio model's default.

The RAM trains exactly as the studio trains it (``ram_task``: one Adam, the loss in
``RecurrentAttention.train_step``). With ``--hint-epochs 0`` (the default) nothing is
supervised beyond the class label; with N > 0 the location network is also taught the
digit's centre for the first N epochs (the ram option ``hint_epochs``), then REINFORCE
alone — the JSON line records which.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from cnnstudio.core.config import DatasetConfig, TrainConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.families.attention import ram_probes
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.registry import ARCHITECTURES, TASKS
from cnnstudio.core.training import hyper

SHARES = {"ram": 0.60, "conv-2": 0.25, "fc-256": 0.15, "conv-pool": 0.25}
RAM_OPTIONS = {"glimpses": 6, "patch": 12, "scales": 3}


class Budget(keras().callbacks.Callback):
    """Stop at the first epoch end past ``cpu_seconds`` of this process's CPU time (all
    threads); counts epochs. With ``base_lr`` set, each epoch's learning rate follows a
    cosine over the budget spent so far: base_lr · ½(1 + cos(π · used / budget)) — the
    epoch count a budget allows is unknown beforehand, the budget is not."""

    def __init__(self, cpu_seconds: float, base_lr: float | None = None):
        super().__init__()
        self.cpu_seconds, self.epochs, self.start = cpu_seconds, 0, time.process_time()
        self.base_lr = base_lr

    def used(self) -> float:
        return time.process_time() - self.start

    def on_epoch_begin(self, epoch, logs=None):
        if self.base_lr is not None:
            spent = min(1.0, self.used() / self.cpu_seconds)
            self.model.optimizer.learning_rate.assign(
                self.base_lr * 0.5 * (1.0 + math.cos(math.pi * spent)))

    def on_epoch_end(self, epoch, logs=None):
        self.epochs = epoch + 1
        if self.used() > self.cpu_seconds:
            self.model.stop_training = True


class Progress(keras().callbacks.Callback):
    """A line of training logs every ``every`` epochs (``--progress``)."""

    def __init__(self, name: str, every: int, budget: Budget):
        super().__init__()
        self.name, self.every, self.budget = name, every, budget

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            shown = " ".join(f"{k} {float(v):.4f}" for k, v in (logs or {}).items())
            print(f"  {self.name} epoch {epoch + 1} ({self.budget.used():.0f} CPU-s): {shown}",
                  flush=True)


def train(model_id: str, dataset, cpu_seconds: float, seed: int, ram_options: dict,
          schedule: str = "cosine", progress: int = 0) -> dict:
    """Train one model under its budget on freshly placed digits; its test figures."""
    k = keras()
    k.utils.set_random_seed(seed)
    cfg = TrainConfig(epochs=10_000, batch_size=64, learning_rate=1e-3, seed=seed,
                      validation_split=0.0)
    arch = ARCHITECTURES.get(model_id)
    options = dict(ram_options) if model_id == "ram" else {}
    model = arch.build(dataset.input_shape, dataset.num_classes, options)
    ram_task = TASKS.get("ram")
    # The same generator feeds every model: the ram task's batches (fresh placements
    # per epoch, keyed by seed and epoch).
    data = ram_task.prepare(dataset, dataset.input_shape, cfg, lambda event: None)
    data.extra["scene_batches"].centres = model_id == "ram"    # baselines: labels only
    if model_id == "ram":
        ram_task.compile(model, cfg, data)
    else:
        model.compile(optimizer=hyper.make_optimizer(cfg), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    budget = Budget(cpu_seconds, cfg.learning_rate if schedule == "cosine" else None)
    shown = [Progress(model_id, progress, budget)] if progress else []
    start = time.perf_counter()
    history = model.fit(**data.fit_kwargs, epochs=cfg.epochs,
                        callbacks=[*ram_task.callbacks(cfg, data), budget, *shown], verbose=0)
    took = time.perf_counter() - start
    x, y = data.test
    probs = np.asarray(model.predict(x, batch_size=250, verbose=0))
    out = {"model": model_id, "epochs": budget.epochs, "seconds": round(took, 1),
           "cpu_seconds": round(budget.used(), 1),
           "error": float(np.mean(np.argmax(probs, -1) != y)),
           "train_error": 1.0 - float(history.history["accuracy"][-1])}
    if model_id == "ram":
        out["random_error"] = 1.0 - ram_probes.random_policy_accuracy(model, x, y, seed=seed)
        if model.samples > 1:     # also the one run at the location means, for comparison
            means = model.trace(x, mode="mean")["probabilities"][:, -1]
            out["means_error"] = float(np.mean(np.argmax(means, -1) != y))
    return out


DATASETS = {"translated": "mnist-translated", "cluttered": "mnist-cluttered"}
MODELS = ("ram", "fc-256", "conv-2")              # the three, run by default
EXTRA = ("conv-pool",)                            # on request: a stronger conv net
KEYS = {"ram": "ram", "fc-256": "fc", "conv-2": "conv", "conv-pool": "conv_pool"}


def _names(text: str, allowed, what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise SystemExit(f"--{what}: choose from {', '.join(allowed)}, got {text!r}")
    return names


def ram_options(args) -> dict:
    """The RAM's options: the issue's sensor, --hint-epochs, --patch-net, --glimpse-mix,
    --ram-options."""
    extra = json.loads(args.ram_options)
    if not isinstance(extra, dict):
        raise SystemExit("--ram-options: a JSON object of ram options, e.g. '{\"std\": 0.1}'")
    fixed = [k for k in RAM_OPTIONS if k in extra and extra[k] != RAM_OPTIONS[k]]
    if fixed:
        raise SystemExit(f"--ram-options: the issue fixes {', '.join(fixed)}")
    return {**RAM_OPTIONS, "hint_epochs": args.hint_epochs, "patch_net": args.patch_net,
            "glimpse_mix": args.glimpse_mix, **extra}


def main() -> None:
    # Here, not at the top: tests load this file by its path, without benchmarks/ on sys.path.
    from _common import emit, goal

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0,
                        help="budget per dataset on 2 CPU cores, shared by the three models")
    parser.add_argument("--hint-epochs", type=int, default=0,
                        help="the RAM's hybrid start (see the ram option hint_epochs); 0: "
                             "pure REINFORCE")
    parser.add_argument("--patch-net", choices=("dense", "conv"), default="dense",
                        help="the RAM's patch pathway (the ram option patch_net)")
    parser.add_argument("--glimpse-mix", choices=("multiply", "add"), default="multiply",
                        help="how the RAM's glimpse network joins what and where (the ram "
                             "option glimpse_mix): multiply, Ba et al.'s, or add, the paper's")
    parser.add_argument("--ram-options", default="{}",
                        help="further ram options as JSON, recorded in the JSON line")
    parser.add_argument("--schedule", choices=("cosine", "constant"), default="cosine",
                        help="every model's learning rate: a cosine over its budget, or "
                             "constant 1e-3")
    parser.add_argument("--datasets", default="translated,cluttered",
                        help="which datasets, comma-separated (translated, cluttered)")
    parser.add_argument("--models", default=",".join(MODELS),
                        help="which models, comma-separated (ram, fc-256, conv-2; "
                             "conv-pool on request)")
    parser.add_argument("--progress", type=int, default=0,
                        help="print the training logs every N epochs (0: never)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    datasets = _names(args.datasets, DATASETS, "datasets")
    models = _names(args.models, MODELS + EXTRA, "models")
    options = ram_options(args)
    results = {}
    for name in datasets:
        dataset = load_dataset(DatasetConfig(DATASETS[name], {"canvas": 60}))
        for model_id in models:
            r = train(model_id, dataset, 2 * args.minutes * 60 * SHARES[model_id], args.seed,
                      options, args.schedule, args.progress)
            results[(name, model_id)] = r
            extra = f"  random fixations {r['random_error']:.2%}" if "random_error" in r else ""
            if "means_error" in r:
                extra += f"  (at the location means alone {r['means_error']:.2%})"
            print(f"{DATASETS[name]:<18}{model_id:<10} error {r['error']:7.2%}  after "
                  f"{r['epochs']:3d} epochs, {r['cpu_seconds']:6.0f} CPU-s in {r['seconds']:6.0f}"
                  f" s (training error {r['train_error']:.2%}){extra}", flush=True)

    def error(name, model_id, key="error"):
        r = results.get((name, model_id))
        return None if r is None else r[key]

    summary = {f"{KEYS[m]}_{name}_error": error(name, m) for name in DATASETS
               for m in (*MODELS, *[e for e in EXTRA if e in models])}
    summary["random_policy_cluttered_error"] = error("cluttered", "ram", "random_error")
    summary.update({"glimpses": RAM_OPTIONS["glimpses"], "patch_net": options["patch_net"],
                    "hint_epochs": options["hint_epochs"], "minutes": args.minutes,
                    "schedule": args.schedule, "ram_options": options})
    s = summary
    goals = {     # goal: (figure, comparison, what it is held against, × factor)
        "RAM below FC, translated": ("ram_translated_error", "<", "fc_translated_error", 1),
        "RAM below FC, cluttered": ("ram_cluttered_error", "<", "fc_cluttered_error", 1),
        "RAM below conv, cluttered": ("ram_cluttered_error", "<", "conv_cluttered_error", 1),
        "translated error ≤ 5 %": ("ram_translated_error", "<=", 0.05, 1),
        "random ≥ 2 × learned": ("random_policy_cluttered_error", ">=", "ram_cluttered_error",
                                 2),
    }
    for name, (left, op, right, factor) in goals.items():
        b = s[right] if isinstance(right, str) else right
        goal(name, s[left], op, None if b is None else factor * b)
    emit(__file__, summary)


if __name__ == "__main__":
    main()
