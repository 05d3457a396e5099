"""Multi-task learning (book chapter 5): one trunk with a head per task against one model per
task of the very same trunk, on the same data, trained the same way, through the engine.

    python benchmarks/multitask.py [--dataset scenes-multitask] [--epochs 12] [--count 6000]
                                   [--size 48] [--filters 16] [--seed 1] [--weights 1,1,1]
                                   [--runs-root DIR]

Four runs: ``multitask`` with tasks=all, then tasks=1, 2 and 3 alone (the single-task
baselines). Each is scored on the dataset's held-out test images (1,000 scenes; 500 digits).
With ``--runs-root`` the runs stay there, where the Multi-task tab compares them.

Last line, one JSON object: multitask_<task>_accuracy and single_<task>_accuracy for each
task, multitask_params, single_params_total, multitask_seconds, single_seconds_total.
Goals (issue 26): each task's multi-task accuracy within 2 points of its single-task model's
(or above); multitask_params ≤ 0.45 × single_params_total.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from _common import emit, goal

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")      # the figures are CPU figures

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig  # noqa: E402
from cnnstudio.core.training import engine  # noqa: E402
from cnnstudio.core.training.rundir import RunDir  # noqa: E402


def train(args, tasks: str, root: str) -> dict:
    options = {"size": args.size, "count": args.count} if args.dataset == "scenes-multitask" \
        else {}
    config = RunConfig(dataset=DatasetConfig(args.dataset, options),
                       model=ModelConfig("multitask", {"filters": args.filters,
                                                       "tasks": tasks, **args.weights}),
                       training=TrainConfig(epochs=args.epochs, batch_size=args.batch_size,
                                            seed=args.seed, lr_schedule="cosine",
                                            validation_split=0.1),
                       name=f"tasks-{tasks}")
    t0 = time.perf_counter()
    result = engine.run(config, runs_root=root)
    seconds = time.perf_counter() - t0
    if result.status != "finished":
        raise SystemExit(f"the tasks={tasks} run did not finish: {result.summary}")
    evaluation = RunDir(result.run_dir).read_json("evaluation.json")
    accuracies = {t: h["accuracy"] for t, h in evaluation["heads"].items()}
    print(f"tasks={tasks}: {evaluation['params']:,} parameters, {seconds:.0f} s; test "
          + ", ".join(f"{t} {a:.1%}" for t, a in accuracies.items()), flush=True)
    return {"accuracy": accuracies, "params": evaluation["params"], "seconds": seconds}


def weights(text: str) -> dict[str, float]:
    values = [float(v) for v in text.split(",")]
    if len(values) != 3 or min(values) < 0:
        raise argparse.ArgumentTypeError(f"three weights ≥ 0, got {text!r}")
    return {f"weight_{i}": v for i, v in enumerate(values, start=1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="scenes-multitask",
                        choices=("scenes-multitask", "mnist-multitask"))
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--count", type=int, default=6000, help="training scenes")
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--weights", default="1,1,1", type=weights,
                        help="loss weights of tasks 1,2,3 (the multi-task run's total loss)")
    parser.add_argument("--runs-root", default=None,
                        help="keep the four runs here (default: a temporary folder)")
    args = parser.parse_args()
    root = args.runs_root or tempfile.mkdtemp(prefix="multitask-bench-")
    print(f"{args.dataset}: {args.epochs} epochs, batches of {args.batch_size}, "
          f"{os.cpu_count()} cores, runs in {root}", flush=True)

    multi = train(args, "all", root)
    tasks = list(multi["accuracy"])
    singles = {t: train(args, str(i + 1), root) for i, t in enumerate(tasks)}

    figures = {}
    for t in tasks:
        figures[f"multitask_{t}_accuracy"] = round(multi["accuracy"][t], 4)
        figures[f"single_{t}_accuracy"] = round(singles[t]["accuracy"][t], 4)
    single_params = sum(s["params"] for s in singles.values())
    figures.update({"multitask_params": multi["params"], "single_params_total": single_params,
                    "multitask_seconds": round(multi["seconds"], 1),
                    "single_seconds_total": round(sum(s["seconds"] for s in singles.values()),
                                                  1),
                    "epochs": args.epochs, "dataset": args.dataset,
                    "weights": list(args.weights.values())})
    for t in tasks:
        goal(f"multitask_{t}_accuracy (vs single − 0.02)", figures[f"multitask_{t}_accuracy"],
             ">=", round(figures[f"single_{t}_accuracy"] - 0.02, 4))
    goal("multitask_params", multi["params"], "<=", round(0.45 * single_params))
    emit(__file__, figures)


if __name__ == "__main__":
    main()
