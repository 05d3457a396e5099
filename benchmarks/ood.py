"""Unfamiliar inputs: does a LeNet-5 trained on mnist-5k tell its test digits from images that
are no digits at all (cnnstudio/core/familiarity.py)?

The run is trained through the studio's engine, which fits and calibrates the statistics at
its end (on the validation split). Then the same Predictor as `cnnstudio predict` and the
prediction dock scores the 500 held-out test digits against 500 non-digits:

- crops of scikit-image's sample photos (``skimage.data``: astronaut, camera, cat, coffee,
  coins, rocket, moon, textures of brick, grass and gravel, microscopy…; not the pages of
  text, the logo or the binary drawings), square, 32–256 pixels, anywhere in the photo;
- CIFAR-like 32×32 colour textures the benchmark generates: uniform and Gaussian noise,
  stripes (soft or hard, any angle and frequency), checkerboards (any cell size and angle),
  smooth blobs (blurred noise).

Each goes through the studio's photo preparation first (grey, adapted to the training
images' form and resized to 28×28, as a dropped photo is), and the score is taken on what the
model sees.

    python benchmarks/ood.py [--epochs 10] [--seed 0] [--digits 500] [--others 500]

Last line: {"benchmark", "ood_auroc", "digits_flagged_share", "others_flagged_share",
"photos_flagged_share", "textures_flagged_share", "photo_auroc", "texture_auroc",
"energy_auroc", "mahalanobis_auroc", "astronaut", "threshold", "test_accuracy", …, "machine"}.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import cv2
import numpy as np
from _common import emit, goal

PHOTOS = ("astronaut", "camera", "cat", "chelsea", "coffee", "coins", "rocket", "moon", "clock",
          "brick", "grass", "gravel", "cell", "hubble_deep_field", "immunohistochemistry",
          "retina", "colorwheel")
TEXTURES = ("uniform noise", "gaussian noise", "stripes", "checkerboard", "blobs")


def photo_crops(count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Square crops (32–256 px) of scikit-image's bundled photos, in turn, anywhere in them."""
    import skimage.data

    photos = [getattr(skimage.data, name)() for name in PHOTOS]
    crops = []
    for i in range(count):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        side = int(rng.integers(32, min(h, w, 256) + 1))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = photo[y:y + side, x:x + side]
        crops.append(np.ascontiguousarray(crop if crop.ndim == 3 else crop[..., None]))
    return crops


def texture(kind: str, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """One CIFAR-sized RGB texture of ``kind`` (one of TEXTURES)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    if kind == "uniform noise":
        image = rng.integers(0, 256, (size, size, 3))
    elif kind == "gaussian noise":
        image = rng.normal(rng.uniform(60, 200), rng.uniform(10, 60), (size, size, 3))
    elif kind == "stripes":
        angle, phase = rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * rng.uniform(2, 10) / size
                      * (np.cos(angle) * xx + np.sin(angle) * yy) + phase)
        if rng.random() < 0.5:
            wave = np.sign(wave)
        image = (127.5 + 127.5 * wave)[..., None] * rng.uniform(0.4, 1.0, 3)
    elif kind == "checkerboard":
        cell, angle = int(rng.integers(2, 9)), rng.uniform(0, np.pi / 2)
        u = np.cos(angle) * xx + np.sin(angle) * yy
        v = -np.sin(angle) * xx + np.cos(angle) * yy
        low, high = sorted(rng.uniform(0, 255, 2))
        board = (np.floor(u / cell) + np.floor(v / cell)) % 2
        image = np.repeat((low + (high - low) * board)[..., None], 3, axis=2)
    else:                                             # smooth blobs
        noise = cv2.GaussianBlur(rng.normal(0, 1, (size, size, 3)).astype(np.float32), (0, 0),
                                 rng.uniform(1.5, 5))
        image = (noise - noise.min()) / (np.ptp(noise) + 1e-6) * 255
    return np.clip(image, 0, 255).astype(np.uint8)


def auroc(familiar: np.ndarray, unfamiliar: np.ndarray) -> float:
    """P(an unfamiliar image scores above a familiar one), ties counting half."""
    from sklearn.metrics import roc_auc_score

    truth = np.r_[np.zeros(len(familiar)), np.ones(len(unfamiliar))]
    return float(roc_auc_score(truth, np.r_[familiar, unfamiliar]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--digits", type=int, default=500, help="test digits (at most 500)")
    parser.add_argument("--others", type=int, default=500,
                        help="non-digits: half photo crops, half textures")
    args = parser.parse_args()
    from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
    from cnnstudio.core.datasets import dataset_config, load_dataset
    from cnnstudio.core.familiarity import feature_model
    from cnnstudio.core.predict import Predictor
    from cnnstudio.core.training import engine

    rng = np.random.default_rng(args.seed)
    n_photos = args.others // 2
    others = photo_crops(n_photos, rng) + [texture(TEXTURES[i % len(TEXTURES)], rng)
                                           for i in range(args.others - n_photos)]
    test = load_dataset(dataset_config("mnist-5k")).test
    digits = list(test.x[:args.digits])
    with tempfile.TemporaryDirectory() as root:
        config = RunConfig(DatasetConfig("mnist-5k", {}), ModelConfig("lenet5", {}),
                           TrainConfig(epochs=args.epochs, seed=args.seed))
        t0 = time.perf_counter()
        result = engine.run(config, runs_root=root)
        train_s = time.perf_counter() - t0
        predictor = Predictor.from_run(result.run_dir)
        if predictor.familiar is None:
            raise SystemExit("the run wrote no familiarity statistics")
        fam = predictor.familiar
        t0 = time.perf_counter()
        judged = predictor.familiarities(digits + others)
        score_ms = 1000 * (time.perf_counter() - t0) / len(judged)
        scores = np.array([j["score"] for j in judged])
        flagged = np.array([j["unfamiliar"] for j in judged])
        # The two signals alone, on the same prepared images (what the combination adds).
        extractor = feature_model(predictor.model)
        prepared = np.stack([predictor.prepare(im) for im in digits + others]).astype("float32")
        signals = fam.signals(np.asarray(extractor.predict(prepared, verbose=0)))
        import skimage.data

        astronaut = skimage.data.astronaut()
        top = predictor.top_k(astronaut, 1)[0]
        astro = {"top": top[0], "probability": round(top[1], 4),
                 **predictor.familiarity(astronaut)}
    d, n = len(digits), n_photos
    figures = {
        "digits": d, "others": len(others), "photos": n, "textures": len(others) - n,
        "ood_auroc": round(auroc(scores[:d], scores[d:]), 4),
        "digits_flagged_share": round(float(flagged[:d].mean()), 4),
        "others_flagged_share": round(float(flagged[d:].mean()), 4),
        "photos_flagged_share": round(float(flagged[d:d + n].mean()), 4),
        "textures_flagged_share": round(float(flagged[d + n:].mean()), 4),
        "photo_auroc": round(auroc(scores[:d], scores[d:d + n]), 4),
        "texture_auroc": round(auroc(scores[:d], scores[d + n:]), 4),
        "energy_auroc": round(auroc(signals["energy"][:d], signals["energy"][d:]), 4),
        "mahalanobis_auroc": (round(auroc(signals["distance"][:d], signals["distance"][d:]), 4)
                              if "distance" in signals else None),
        "astronaut": astro,
        "threshold": round(fam.threshold, 4), "percentile": fam.info.get("percentile"),
        "calibrated_on": fam.info.get("calibrated_on"),
        "calibration_images": fam.info.get("calibration_images"),
        "fit_seconds": fam.info.get("seconds"), "score_ms_per_image": round(score_ms, 3),
        "test_accuracy": round(result.summary["test"]["accuracy"], 4),
        "epochs": args.epochs, "seed": args.seed, "train_seconds": round(train_s, 1),
        "date": time.strftime("%Y-%m-%d"),
    }
    print(f"LeNet-5 on mnist-5k, {args.epochs} epochs (test accuracy "
          f"{figures['test_accuracy']:.1%}): {d} test digits against {len(others)} non-digits "
          f"({n} photo crops, {len(others) - n} textures); AUROC {figures['ood_auroc']:.3f} "
          f"(energy alone {figures['energy_auroc']:.3f}, Mahalanobis alone "
          f"{figures['mahalanobis_auroc']}); flagged: digits "
          f"{figures['digits_flagged_share']:.1%}, photos {figures['photos_flagged_share']:.1%}, "
          f"textures {figures['textures_flagged_share']:.1%}; the astronaut: "
          f"“{astro['top']}” at {astro['probability']:.0%}, "
          f"{'flagged' if astro['unfamiliar'] else 'not flagged'}")
    goal("ood_auroc", figures["ood_auroc"], ">=", 0.95)
    goal("digits_flagged_share", figures["digits_flagged_share"], "<=", 0.05)
    emit(__file__, figures)


if __name__ == "__main__":
    main()
