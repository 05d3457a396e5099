"""Four small trials through Ray (``--max-parallel 1``) against the same four run one after
another in one process: ``overhead_ratio`` is Ray's wall time over the plain loop's.

Both sides start from a fresh Python process (Ray's trials also import TensorFlow once, in
their worker), so the ratio is what Ray adds: starting its local cluster, scheduling, and
moving the sweep and the results. Goal ≤ 1.15.

    python benchmarks/sweep_overhead.py [--epochs 1] [--dataset mnist-5k] [--model lenet5]
                                        [--rounds 3]

Each round times both sides one after the other; the figure is the median round's ratio,
with the spread of all rounds beside it (this machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from _common import add_rounds, emit, goal, median_index, spread

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig

LOOP = """
import sys
from cnnstudio.core.sweeps import runner, spec
plan = spec.load(sys.argv[1])
for i in range(len(plan.trials)):
    runner.run_trial(plan, i, sys.argv[2])
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--dataset", default="mnist-5k")
    parser.add_argument("--model", default="lenet5")
    add_rounds(parser, 3, "rounds, each timing both sides one after the other")
    args = parser.parse_args()
    base = RunConfig(DatasetConfig(args.dataset, {}), ModelConfig(args.model, {}),
                     TrainConfig(epochs=args.epochs, batch_size=64)).to_dict()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    rounds = []
    with tempfile.TemporaryDirectory() as root:
        sweep = os.path.join(root, "sweep.json")
        with open(sweep, "w") as f:
            json.dump({"base": base, "metric": "val_accuracy",
                       "grid": {"training.learning_rate": [0.001, 0.003],
                                "training.batch_size": [64, 128]}}, f)
        for r in range(args.rounds):
            loop = _timed([sys.executable, "-c", LOOP, sweep, os.path.join(root, f"loop{r}")],
                          env)
            ray_root = os.path.join(root, f"ray{r}")
            ray = _timed([sys.executable, "-m", "cnnstudio", "sweep", sweep, "--runs-root",
                          ray_root, "--max-parallel", "1", "--json"], env)
            runs = len(os.listdir(ray_root))
            rounds.append((ray / loop, loop, ray))
            print(f"round {r + 1}: one process {loop:6.1f} s · Ray --max-parallel 1 {ray:6.1f} s "
                  f"({runs} run directories) · ratio {ray / loop:.3f}", flush=True)
    ratios = [x[0] for x in rounds]
    median = rounds[median_index(ratios)]          # one round: its ratio and its two times
    goal("overhead_ratio", round(median[0], 3), "<=", 1.15)
    # "rounds" here is the list of every round's ratio (its count is len(rounds)).
    emit(__file__, {"overhead_ratio": round(median[0], 3), "spread": spread(ratios, 3),
                    "rounds": [round(x, 3) for x in ratios], "loop_s": round(median[1], 1),
                    "ray_s": round(median[2], 1), "trials": 4})


def _timed(command: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(command, check=True, env=env, capture_output=True)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
