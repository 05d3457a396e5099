"""Four small trials through Ray (``--max-parallel 1``) against the same four run one after
another in one process: ``overhead_ratio`` is Ray's wall time over the plain loop's.

Both sides start from a fresh Python process (Ray's trials also import TensorFlow once, in
their worker), so the ratio is what Ray adds: starting its local cluster, scheduling, and
moving the sweep and the results. Goal ≤ 1.15.

    python benchmarks/sweep_overhead.py [--epochs 1] [--dataset mnist-5k] [--model lenet5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

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
    args = parser.parse_args()
    base = RunConfig(DatasetConfig(args.dataset, {}), ModelConfig(args.model, {}),
                     TrainConfig(epochs=args.epochs, batch_size=64)).to_dict()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    with tempfile.TemporaryDirectory() as root:
        sweep = os.path.join(root, "sweep.json")
        with open(sweep, "w") as f:
            json.dump({"base": base, "metric": "val_accuracy",
                       "grid": {"training.learning_rate": [0.001, 0.003],
                                "training.batch_size": [64, 128]}}, f)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", LOOP, sweep, os.path.join(root, "loop")],
                       check=True, env=env, capture_output=True)
        loop = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cnnstudio", "sweep", sweep, "--runs-root",
                        os.path.join(root, "ray"), "--max-parallel", "1", "--json"],
                       check=True, env=env, capture_output=True)
        ray = time.perf_counter() - t0
        runs = len(os.listdir(os.path.join(root, "ray")))
    print(f"one process, one after another  {loop:7.1f} s")
    print(f"Ray, --max-parallel 1           {ray:7.1f} s  ({runs} run directories)")
    print(json.dumps({"overhead_ratio": round(ray / loop, 3), "loop_s": round(loop, 1),
                      "ray_s": round(ray, 1), "trials": 4}))


if __name__ == "__main__":
    main()
