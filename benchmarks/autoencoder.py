"""Chapter 6 measured: the book's convolutional autoencoder (4×4×8 code) on mnist-5k, trained
through the studio's engine, plain and denoising (noise factor 0.5).

    python benchmarks/autoencoder.py [--epochs 40] [--batch-size 128]

- test_mse: the plain autoencoder's reconstruction MSE on the 500 test digits ([0, 1] pixels);
- denoise_psnr_gain_db: mean PSNR of the denoised test digits minus that of their noisy
  versions, both against the clean digits (fixed noise, factor 0.5);
- search_precision_at_10: for every test digit, the share of its 10 nearest other test digits
  in code space (Euclidean distance between the plain model's 128-number codes) that show
  the same digit, averaged over the test set; pixel_precision_at_10: the same on raw pixels.
  The same measure on unit-length codes (cosine distance, what the studio's search could
  offer) is printed as search_precision_at_10_normalised, and the same search of each test
  digit among the 4,500 training digits (a gallery nine times larger) as
  search_precision_at_10_train_gallery / pixel_precision_at_10_train_gallery, for reference.

Prints a table, then one JSON object on the last line. Goals: gain ≥ 6 dB, search
precision ≥ 0.90.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from _common import emit, goal

from cnnstudio.core.config import RunConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.families.generative import autoencoder_probes as probes
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.training import engine


def train(root: str, denoise: bool, epochs: int, batch_size: int):
    config = RunConfig()
    config.name = "Chapter 6 benchmark"
    config.dataset.id = "mnist-5k"
    config.model.id, config.model.options = "conv-autoencoder", {"denoise": denoise}
    config.training.epochs, config.training.batch_size = epochs, batch_size
    config.training.learning_rate, config.training.validation_split = 0.002, 0.0
    t0 = time.perf_counter()
    result = engine.run(config, runs_root=root)
    if result.status != "finished":
        raise SystemExit(f"training failed: {result.summary}")
    return load_model_file(result.run_dir / "model.keras"), result.summary["test"], \
        time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    data = load_dataset(RunConfig().dataset)           # mnist-5k, offline
    x, labels = data.test.x, data.test.y
    with tempfile.TemporaryDirectory() as root:
        plain, plain_test, plain_s = train(root, False, args.epochs, args.batch_size)
        denoiser, denoise_test, denoise_s = train(root, True, args.epochs, args.batch_size)
    codes = probes.encode(plain, x)
    code_size = int(np.prod(plain.code_shape))
    pixels = probes.to_unit(x).reshape(len(x), -1)
    result = {
        "code_size": code_size,
        "test_mse": round(plain_test["mse"], 5),
        "denoise_psnr_gain_db": round(denoise_test["psnr_gain_db"], 2),
        "search_precision_at_10": round(probes.precision_at_k(codes, labels, 10), 4),
        "pixel_precision_at_10": round(probes.precision_at_k(pixels, labels, 10), 4),
        "search_precision_at_10_normalised": round(
            probes.precision_at_k(probes.normalise(codes), labels, 10), 4),
        "search_precision_at_10_train_gallery": round(probes.gallery_precision_at_k(
            codes, labels, probes.encode(plain, data.train.x), data.train.y, 10), 4),
        "pixel_precision_at_10_train_gallery": round(probes.gallery_precision_at_k(
            pixels, labels, probes.to_unit(data.train.x).reshape(len(data.train.x), -1),
            data.train.y, 10), 4),
        "noisy_psnr_db": round(denoise_test["noisy_psnr_db"], 2),
        "denoised_psnr_db": round(denoise_test["psnr_db"], 2),
        "epochs": args.epochs,
        "plain_seconds": round(plain_s, 1), "denoise_seconds": round(denoise_s, 1),
    }
    for key, value in result.items():
        print(f"{key:<36}{value}")
    goal("denoising PSNR gain", result["denoise_psnr_gain_db"], ">=", 6, " dB")
    goal("search precision at 10", result["search_precision_at_10"], ">=", 0.9)
    emit(__file__, result)


if __name__ == "__main__":
    main()
