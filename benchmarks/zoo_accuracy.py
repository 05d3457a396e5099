"""Every small-input architecture of the zoo, trained through the engine on the offline MNIST
digits ('mnist-5k': 4,500 train / 500 test) with a fixed budget. Prints a table of test
accuracy, training time and samples/s, then one JSON object on the last line.

    python benchmarks/zoo_accuracy.py [--models lenet5,mlp] [--epochs-scale 1.0]

The book's bar: LeNet-5 ≥ 97 % (batch 32, 10 epochs, Adam 1e-3), MLP ≥ 95 % (Keras's
mnist_mlp recipe: RMSprop, batch 128, 20 epochs).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from _common import emit, goal

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.training import engine

# id → (model options, dataset options, epochs, extra training settings). Deep networks get
# small widths so the whole table fits a laptop CPU; the architecture is what is compared.
BUDGET = {
    "mlp": ({}, {}, 20, {"optimizer": "rmsprop", "batch_size": 128}),   # Keras's mnist_mlp
    "lenet5": ({}, {}, 10, {}),
    "book-cifar": ({}, {}, 6, {}),
    "dogs-vs-cats": ({}, {}, 6, {}),
    "traffic-signs-bn": ({}, {}, 4, {}),
    "alexnet": ({"variant": "reduced"}, {}, 4, {"initializer": "he"}),
    "vgg-small": ({}, {}, 4, {}),
    "vgg16": ({"fc_units": 256, "batch_norm": True}, {"size": 32}, 3, {}),
    "googlenet": ({"width": 0.25}, {}, 3, {"initializer": "he"}),
    "resnet": ({"depth": 18, "base_filters": 16}, {}, 3, {}),
}
BARS = {"lenet5": 0.97, "mlp": 0.95}


def run_one(model_id: str, scale: float, root: str) -> dict:
    model_opts, data_opts, epochs, extra = BUDGET[model_id]
    epochs = max(1, round(epochs * scale))
    config = RunConfig(dataset=DatasetConfig("mnist-5k", data_opts),
                       model=ModelConfig(model_id, model_opts),
                       training=TrainConfig(**{"epochs": epochs, "batch_size": 32,
                                               "learning_rate": 1e-3, "validation_split": 0.0,
                                               **extra}),
                       name=f"zoo-{model_id}")
    t0 = time.perf_counter()
    result = engine.run(config, runs_root=root)
    seconds = time.perf_counter() - t0
    params = json.loads((result.run_dir / "model.json").read_text())["params"]
    return {"model": model_id, "epochs": epochs, "params": params,
            "accuracy": round(result.summary["test"].get("accuracy", 0.0), 4),
            "seconds": round(seconds, 1),
            "samples_per_sec": result.summary["samples_per_sec"],
            "status": result.status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(BUDGET))
    parser.add_argument("--epochs-scale", type=float, default=1.0)
    args = parser.parse_args()
    rows = []
    print(f"{'model':<18}{'epochs':>7}{'params':>12}{'accuracy':>10}{'seconds':>9}{'samples/s':>11}")
    with tempfile.TemporaryDirectory() as root:
        for model_id in args.models.split(","):
            row = run_one(model_id.strip(), args.epochs_scale, root)
            rows.append(row)
            print(f"{row['model']:<18}{row['epochs']:>7}{row['params']:>12,}"
                  f"{row['accuracy']:>10.2%}{row['seconds']:>9.1f}{row['samples_per_sec']:>11.0f}",
                  flush=True)
    bars = {m: goal(f"{m} test accuracy", next((r["accuracy"] for r in rows if r["model"] == m),
                                               None), ">=", bar)
            for m, bar in BARS.items()}
    emit(__file__, {"dataset": "mnist-5k", "rows": rows, "bars_met": bars})


if __name__ == "__main__":
    main()
