"""How good are the studio's GAN digits? ``gan-mlp`` and ``dcgan`` judged by a LeNet-5.

Both GANs train through the engine on mnist-5k (4,500 digits) for a fixed number of
epochs (epoch budgets repeat on a shared machine; wall-clock ones do not). A LeNet-5
trained in the same run scores 1,000 samples of each GAN and 1,000 real digits it never
saw (mnist-5k's 500 test digits + 500 training digits held out from the LeNet):

- digit score  exp(E_x KL(p(y|x) ‖ p(y))), the Inception Score's form with the LeNet:
  10 at most (every sample confidently one digit, all ten digits equally often);
- Fréchet distance between the LeNet's penultimate features (f6, 84 numbers) of the
  images and of the 4,500 real training digits (lower is closer to real).

    python benchmarks/gan_quality.py [--mlp-epochs 150] [--dcgan-epochs 40]

Each GAN trains with its chapter-8 preset (cnnstudio/resources/presets/chapter8-*-mnist.json:
model options, learning rate, batch size); only the epoch count is the budget's. Samples
are drawn as the studio draws them (``gan_probes.generate``): gan-mlp's from the moving
average of G's weights (its ``ema`` option, on by default), dcgan's from G itself.

Goals: dcgan_score ≥ 0.85 × real_score, mlp_gan_score ≥ 0.70 × real_score,
dcgan_fd < mlp_gan_fd. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import emit, goal
from scipy import linalg

from cnnstudio.core.config import DatasetConfig, RunConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.families.generative import gan_probes
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.core.training import engine

SAMPLES = 1000
PRESETS = Path(__file__).resolve().parents[1] / "cnnstudio" / "resources" / "presets"


def train_lenet(x, y, seed: int):
    k = keras()
    k.utils.set_random_seed(seed)
    model = ARCHITECTURES.get("lenet5").build((28, 28, 1), 10)
    model.compile(optimizer=k.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=15, verbose=0, shuffle=True)
    features = k.Model(model.inputs, model.get_layer("f6").output)
    return model, features


def digit_score(probs: np.ndarray) -> float:
    p_y = probs.mean(axis=0, keepdims=True)
    kl = np.sum(probs * (np.log(probs + 1e-12) - np.log(p_y + 1e-12)), axis=1)
    return float(np.exp(kl.mean()))


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    # A ReLU unit that never fires has zero variance: a tiny ridge keeps sqrtm well posed.
    ridge = 1e-6 * np.eye(a.shape[1])
    c1, c2 = np.cov(a, rowvar=False) + ridge, np.cov(b, rowvar=False) + ridge
    root = linalg.sqrtm(c1 @ c2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2.0 * root))


def train_gan(preset: str, epochs: int, root: str, seed: int):
    """The chapter's preset (model options, learning rate, batch) with an epoch budget."""
    config = RunConfig.load(PRESETS / f"{preset}.json")
    config.training.epochs, config.training.seed, config.name = epochs, seed, "bench"
    t0 = time.perf_counter()
    result = engine.run(config, runs_root=root)
    seconds = time.perf_counter() - t0
    if result.status != "finished":
        raise SystemExit(f"{preset} run {result.status}: {result.summary}")
    return load_model_file(result.run_dir / "model.keras"), seconds, result.run_dir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mlp-epochs", type=int, default=150)
    parser.add_argument("--dcgan-epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", help="copy the sample grids (PNG) into this folder")
    args = parser.parse_args()

    data = load_dataset(DatasetConfig("mnist-5k"))
    x_train, y_train = data.train.x, data.train.y
    held = np.random.default_rng(args.seed).permutation(len(x_train))[:500]
    rest = np.setdiff1d(np.arange(len(x_train)), held)
    lenet, features = train_lenet(x_train[rest], y_train[rest], args.seed)
    real = np.concatenate([data.test.x, x_train[held]])[:SAMPLES]
    real_y = np.concatenate([data.test.y, y_train[held]])[:SAMPLES]
    real_acc = float(np.mean(lenet.predict(real, verbose=0).argmax(1) == real_y))
    reference = features.predict(x_train, verbose=0)

    def judge(images):
        probs = lenet.predict(images, verbose=0).astype(np.float64)
        return digit_score(probs), frechet(features.predict(images, verbose=0), reference)

    out = {"samples": SAMPLES, "real_count": len(real),
           "lenet_accuracy_on_real": round(real_acc, 4)}
    out["real_score"], out["real_fd"] = judge(real)
    with tempfile.TemporaryDirectory() as root:
        for key, model_id, preset, epochs in (
                ("mlp_gan", "gan-mlp", "chapter8-gan-mnist", args.mlp_epochs),
                ("dcgan", "dcgan", "chapter8-dcgan-mnist", args.dcgan_epochs)):
            model, seconds, run_dir = train_gan(preset, epochs, root, args.seed)
            images = gan_probes.generate(model, SAMPLES, seed=args.seed)
            out[f"{key}_score"], out[f"{key}_fd"] = judge(images)
            out[f"{key}_seconds"] = round(seconds, 1)
            out[f"{key}_epochs"] = epochs
            if args.keep:
                os.makedirs(args.keep, exist_ok=True)
                gan_probes.save_png(gan_probes.tile_grid(images[:64]),
                                    os.path.join(args.keep, f"{model_id}.png"))
                gan_probes.export_gif(run_dir, os.path.join(args.keep, f"{model_id}.gif"))
            print(f"{model_id}: score {out[f'{key}_score']:.2f}  FD {out[f'{key}_fd']:.2f}  "
                  f"({seconds:.0f} s, {epochs} epochs)", flush=True)
    for key in ("real_score", "real_fd", "mlp_gan_score", "mlp_gan_fd", "dcgan_score",
                "dcgan_fd"):
        out[key] = round(out[key], 3)
    real_score = out["real_score"]
    print(f"real digits: score {real_score:.2f}  FD {out['real_fd']:.2f}  "
          f"(LeNet accuracy {real_acc:.3f})")
    out["goals"] = {
        "dcgan_score>=0.85*real": goal("dcgan_score ≥ 0.85 × real_score", out["dcgan_score"],
                                       ">=", 0.85 * real_score),
        "mlp_gan_score>=0.70*real": goal("mlp_gan_score ≥ 0.70 × real_score",
                                         out["mlp_gan_score"], ">=", 0.70 * real_score),
        "dcgan_fd<mlp_gan_fd": goal("dcgan_fd < mlp_gan_fd", out["dcgan_fd"], "<",
                                    out["mlp_gan_fd"])}
    out["cores"] = os.cpu_count()
    emit(__file__, out)


if __name__ == "__main__":
    main()
