"""CycleGAN on digits2thick (book chapter 8), trained through the engine with the chapter-8
preset (cnnstudio/resources/presets/chapter8-cyclegan-digits.json), then judged on the
test digits of domain A (which no model here was trained on):

- ``cyclegan_domain_accuracy``: a small CNN trained on real A vs real B training images
  calls G(a) "B";
- ``cyclegan_content_accuracy``: a LeNet-5 trained on real B training digits (their
  labels) reads G(a) as a's digit — the translation kept the content;
- ``cyclegan_cycle_l1``: mean |F(G(a)) − a| with pixels on 0..1 (G(a) rounded to uint8 first);
- ``cyclegan_seconds``: the engine's run, from start to the saved model.

    python benchmarks/_translation_cyclegan.py [--epochs N] [--seed S]  # last line: JSON
    figures(epochs=None) -> dict                              # for image_translation.py
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

PRESET = Path(__file__).resolve().parents[1] / "cnnstudio" / "resources" / "presets" / \
    "chapter8-cyclegan-digits.json"
JUDGE_SEED = 7


def train_cyclegan(root: str, epochs: int | None, seed: int | None = None):
    from cnnstudio.core.config import RunConfig
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.training import engine

    config = RunConfig.load(PRESET)
    if epochs:
        config.training.epochs = int(epochs)
    if seed is not None:
        config.training.seed = int(seed)
    config.name = "bench"
    t0 = time.perf_counter()
    result = engine.run(config, runs_root=root)
    seconds = time.perf_counter() - t0
    if result.status != "finished":
        raise SystemExit(f"cyclegan run {result.status}: {result.summary}")
    return load_model_file(result.run_dir / "model.keras"), seconds, config


def _fit(model, x, y, epochs: int):
    from cnnstudio.core.keras_setup import keras

    k = keras()
    model.compile(optimizer=k.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0, shuffle=True)
    return model


def domain_classifier(a, b):
    """Real A (0) vs real B (1): two strided convolutions and a softmax."""
    from cnnstudio.core.keras_setup import keras

    k = keras()
    k.utils.set_random_seed(JUDGE_SEED)
    L = k.layers
    model = k.Sequential([k.Input(a.shape[1:]), L.Rescaling(1 / 255.0),
                          L.Conv2D(16, 3, strides=2, activation="relu"),
                          L.Conv2D(32, 3, strides=2, activation="relu"),
                          L.GlobalAveragePooling2D(), L.Dense(2, activation="softmax")])
    x = np.concatenate([a, b])
    y = np.concatenate([np.zeros(len(a)), np.ones(len(b))]).astype(np.int32)
    return _fit(model, x, y, epochs=3)


def content_reader(b, digits):
    """LeNet-5 (the studio's) trained on real B digits and their labels."""
    from cnnstudio.core.keras_setup import keras
    from cnnstudio.core.registry import ARCHITECTURES

    keras().utils.set_random_seed(JUDGE_SEED)
    model = ARCHITECTURES.get("lenet5").build(b.shape[1:], 10)
    return _fit(model, b, digits, epochs=12)


def judge(model, dataset) -> dict:
    a_test, a_digits = dataset.domain("test", 0), dataset.content("test", 0)
    b_test, b_digits = dataset.domain("test", 1), dataset.content("test", 1)
    g_a, f_g_a = model.cycle(a_test, "a2b")
    domains = domain_classifier(dataset.domain("train", 0), dataset.domain("train", 1))
    reader = content_reader(dataset.domain("train", 1), dataset.content("train", 1))

    def labels(net, x):
        return np.argmax(net.predict(x, batch_size=256, verbose=0), axis=1)

    return {
        "cyclegan_domain_accuracy": float(np.mean(labels(domains, g_a) == 1)),
        "cyclegan_content_accuracy": float(np.mean(labels(reader, g_a) == a_digits)),
        "cyclegan_cycle_l1": float(np.mean(np.abs(f_g_a.astype(np.float64) -
                                                  a_test.astype(np.float64))) / 255.0),
        # The judges themselves, on real images they were not trained on:
        "cyclegan_judge_domain_on_real_a": float(np.mean(labels(domains, a_test) == 0)),
        "cyclegan_judge_content_on_real_b": float(np.mean(labels(reader, b_test) == b_digits)),
        "cyclegan_test_images": int(len(a_test)),
    }


def figures(epochs: int | None = None, seed: int | None = None) -> dict:
    from cnnstudio.core.datasets import load_dataset
    from cnnstudio.core.families.load import load_families

    load_families()
    with tempfile.TemporaryDirectory() as root:
        model, seconds, config = train_cyclegan(root, epochs, seed)
    out = judge(model, load_dataset(config.dataset))
    out["cyclegan_seconds"] = round(seconds, 1)
    out["cyclegan_epochs"] = config.training.epochs
    out["cyclegan_seed"] = config.training.seed
    return out


def main() -> None:
    from _common import emit, goal

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, help="override the preset's epochs")
    parser.add_argument("--seed", type=int, help="override the preset's seed")
    args = parser.parse_args()
    out = figures(args.epochs, args.seed)
    goal("cyclegan_domain_accuracy", out["cyclegan_domain_accuracy"], ">=", 0.90)
    goal("cyclegan_content_accuracy", out["cyclegan_content_accuracy"], ">=", 0.85)
    goal("cyclegan_cycle_l1", out["cyclegan_cycle_l1"], "<=", 0.05)
    goal("cyclegan_seconds", out["cyclegan_seconds"], "<=", 600, "s")
    emit(__file__, out)


if __name__ == "__main__":
    main()
