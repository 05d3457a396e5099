"""Chapter 8 measured: the semi-supervised GAN on mnist-5k with 100 labels (10 per class).

    python benchmarks/ssgan_accuracy.py [--epochs 150] [--batch-size 100] [--lr 1e-3]
                                        [--schedule cosine]

Two runs through the studio's engine, in this process, with the same seed, the same
100 labelled images (seeded choice among the 4,500 training digits), the same
discriminator network and the same budget (epochs × batches of labelled images):

- ssgan_accuracy: ``ssgan`` — D learns from the 100 labels, all 4,500 training digits
  without their labels and G's fakes; G learns by feature matching;
- supervised_accuracy: the same ``ssgan`` model with ``unsupervised_weight`` 0, i.e. the
  same discriminator trained on the 100 labels alone.

Both are the accuracy of D's class prediction on the 500 test digits after the last
epoch (not the best epoch: the test set is not used to choose). Prints a table, then
one JSON object on the last line. Goals: ssgan_accuracy ≥ 0.93 and ≥ 0.10 above
supervised_accuracy.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from _common import emit, goal

from cnnstudio.core.config import RunConfig
from cnnstudio.core.training import engine
from cnnstudio.core.training.events import EpochEnd


def train(root: str, unsupervised_weight: float, args) -> tuple[dict, float]:
    config = RunConfig()
    config.name = "Chapter 8 benchmark"
    config.dataset.id = "mnist-5k"
    config.model.id = "ssgan"
    config.model.options = {"labelled_per_class": 10, "latent_size": 100,
                            "unsupervised_weight": unsupervised_weight}
    t = config.training
    t.epochs, t.batch_size, t.learning_rate = args.epochs, args.batch_size, args.lr
    t.validation_split, t.seed, t.lr_schedule = 0.0, args.seed, args.schedule
    start = time.perf_counter()
    name = "ssgan" if unsupervised_weight else "labels alone"

    def progress(event):          # one line per epoch on stderr; the JSON stays last on stdout
        if isinstance(event, EpochEnd):
            print(f"{name}: epoch {event.epoch}/{event.epochs}, test accuracy "
                  f"{event.logs.get('val_accuracy', float('nan')):.3f}", file=sys.stderr,
                  flush=True)

    result = engine.run(config, runs_root=root, sink=progress)
    if result.status != "finished":
        raise SystemExit(f"the run did not finish: {result.summary}")
    return result.summary["test"], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--schedule", default="cosine", help="constant, step or cosine")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        ssgan, ssgan_s = train(root, 1.0, args)
        supervised, supervised_s = train(root, 0.0, args)
    out = {"labels": int(ssgan["labels"]), "ssgan_accuracy": round(ssgan["accuracy"], 4),
           "supervised_accuracy": round(supervised["accuracy"], 4),
           "gap": round(ssgan["accuracy"] - supervised["accuracy"], 4),
           "epochs": args.epochs, "ssgan_seconds": round(ssgan_s, 1),
           "supervised_seconds": round(supervised_s, 1)}
    print(f"{'run':<28}{'test accuracy':>14}{'seconds':>10}")
    print(f"{'ssgan (100 labels + GAN)':<28}{out['ssgan_accuracy']:>14.4f}{ssgan_s:>10.1f}")
    print(f"{'same D, 100 labels alone':<28}{out['supervised_accuracy']:>14.4f}"
          f"{supervised_s:>10.1f}")
    goal("ssgan_accuracy", out["ssgan_accuracy"], ">=", 0.93)
    goal("gap over the same D on 100 labels alone", out["gap"], ">=", 0.10)
    emit(__file__, out)


if __name__ == "__main__":
    main()
