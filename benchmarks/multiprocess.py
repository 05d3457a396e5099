"""One process against two local processes training the same run (Keras DataParallel on JAX).

Both sides train LeNet-5 on mnist-5k with the same global batch (1 process × 64 against
2 processes × 32) and the same epochs, each through ``cnnstudio train --cluster``. The
two-process run's processes must end with bit-identical weights (their SHA-256); its test
accuracy should match the one-process run's (the batches hold other images: the shares
interleave, so the weights are not bit-equal across the two runs). ``speedup`` is the
one-process fit time over the two-process fit time. On a 2-core machine two processes
share the same two cores, so no speed-up is expected there: what matters is that nothing is
lost and the result is the same.

    python benchmarks/multiprocess.py [--epochs 2] [--dataset mnist-5k] [--model lenet5]
                                      [--rounds 1]

With several rounds the figures are the median round's (by speed-up), the spread of all
rounds' speed-ups beside them, and the weights must be identical in every round.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile

from _common import add_rounds, emit, median_index, spread


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(processes: int, batch: int, args, root: str) -> list[dict]:
    port = _port()
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "cnnstudio", "train", "--dataset", args.dataset, "--model",
         args.model, "--epochs", str(args.epochs), "--batch-size", str(batch), "--lr", "0.002",
         "--runs-root", root, "--json", "--cluster", f"127.0.0.1:{port}",
         "--processes", str(processes), "--process-id", str(i)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for i in range(processes)]
    results = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"process failed ({p.returncode}):\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--dataset", default="mnist-5k")
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--global-batch", type=int, default=64)
    add_rounds(parser, 1, "rounds, each one run of both sides")
    args = parser.parse_args()
    rounds = []
    with tempfile.TemporaryDirectory() as root:
        for r in range(args.rounds):
            one = _run(1, args.global_batch, args, f"{root}/one{r}")[0]
            two = _run(2, args.global_batch // 2, args, f"{root}/two{r}")
            rounds.append((one["fit_seconds"] / two[0]["fit_seconds"], one, two))
            if args.rounds > 1:
                print(f"round {r + 1}: speed-up {rounds[-1][0]:.3f}", flush=True)
    speedups = [x[0] for x in rounds]
    _, one, two = rounds[median_index(speedups)]     # the median round's figures
    chief = two[0]
    figures = {
        "one_process_fit_s": one["fit_seconds"], "two_processes_fit_s": chief["fit_seconds"],
        "one_process_test_accuracy": one["test"].get("accuracy"),
        "two_processes_test_accuracy": chief["test"].get("accuracy"),
        "cpu_cores": os.cpu_count(),
    }
    for key, value in figures.items():
        print(f"{key:30s} {value}")
    emit(__file__, {"speedup": round(one["fit_seconds"] / chief["fit_seconds"], 3),
                    "weights_identical": all(t[0]["weights_sha256"] == t[1]["weights_sha256"]
                                             for _, _, t in rounds),
                    **figures, "rounds": args.rounds, "speedup_spread": spread(speedups, 3)})


if __name__ == "__main__":
    main()
