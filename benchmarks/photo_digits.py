"""Ink-on-paper photos of digits read by a LeNet-5 trained on mnist-5k, with and without the
studio's photo preparation (cnnstudio/core/photo_prep.py).

The photos are made from the 500 held-out mnist-5k test digits (cnnstudio/core/ink_photos.py):
dark ink on light paper, a light gradient across it, the digit 35–70 % of a 320×240 frame,
anywhere in it, turned by up to 12°, with sensor noise. Each is read through the same
Predictor as `cnnstudio predict` and the studio's prediction panel.

    python benchmarks/photo_digits.py [--epochs 10] [--seed 0]

Last line: {"benchmark", "photos", "test_accuracy", "raw_accuracy", "adapted_accuracy",
"machine"}.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
from _common import emit

from cnnstudio.core import ink_photos
from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.datasets import dataset_config, load_dataset
from cnnstudio.core.predict import Predictor
from cnnstudio.core.training import engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        config = RunConfig(DatasetConfig("mnist-5k", {}), ModelConfig("lenet5", {}),
                           TrainConfig(epochs=args.epochs, seed=args.seed))
        result = engine.run(config, runs_root=root)
        predictor = Predictor.from_run(result.run_dir)
        test = load_dataset(dataset_config("mnist-5k")).test
        rng = np.random.default_rng(args.seed)
        photos = [ink_photos.ink_photo(digit, rng) for digit in test.x]
        figures = {"photos": len(photos),
                   "test_accuracy": round(result.summary["test"]["accuracy"], 4)}
        for key, adapt in (("raw_accuracy", False), ("adapted_accuracy", True)):
            predictor.adapt_photos = adapt
            guesses = np.concatenate([predictor.probabilities(photos[i:i + 100]).argmax(1)
                                      for i in range(0, len(photos), 100)])
            figures[key] = round(float(np.mean(guesses == test.y)), 4)
    print(f"LeNet-5 on mnist-5k, {args.epochs} epochs: test accuracy "
          f"{figures['test_accuracy']:.1%}; {len(photos)} ink-on-paper photos read "
          f"{figures['raw_accuracy']:.1%} right as they are, "
          f"{figures['adapted_accuracy']:.1%} after photo preparation")
    emit(__file__, figures)


if __name__ == "__main__":
    main()
