"""pix2pix against its L1-only baseline on edges2shapes (book chapter 8), for
``image_translation.py``; also runnable alone:

    python benchmarks/_translation_pix2pix.py [--epochs N] [--keep DIR]

Both models train through the engine with their chapter-8 presets
(cnnstudio/resources/presets/chapter8-pix2pix-edges2shapes.json and
chapter8-pix2pix-l1-only.json: the same data, network, optimizer and epochs; only
``gan_weight`` differs). Each then translates edges2shapes' 100 fixed test pairs:

- ``*_l1``: mean |G(x) − y| on the 0..1 pixel scale;
- ``pad_translate_ms``: one 64×64 sketch through the trained generator (median of 30),
  what the drawing pad waits for after each stroke (goal ≤ 100 ms);
- ``*_sharpness``: mean variance of the Laplacian of the grey outputs (pixels 0..1),
  ``target_sharpness`` the same of the real targets (pix2pix_probes.sharpness).

The inputs are edges only: a shape's colour, its shading and the background's texture
must be guessed. L1 alone guesses their average (a blur); the GAN loss makes G commit.
Goals: pix2pix_sharpness ≥ 0.8 × target_sharpness and ≥ 1.3 × l1only_sharpness;
pix2pix_l1 ≤ 1.5 × l1only_l1; each model within 10 minutes on 2 CPU cores.

Measured (2 shared CPU cores, presets at filters 16, Adam 2e-4, 30 epochs): pix2pix
sharpness 0.0174 (targets 0.0204, L1-only 0.0062), L1 0.210 (L1-only 0.201; most of
it is the background colour no edge map tells), 142 s and 90 s. With filters 32 and
15 epochs (282 s) pix2pix reached only 0.0111: more steps beat a wider network here.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import emit, goal

from cnnstudio.core.config import RunConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.families.generative import pix2pix_probes as probes
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.training import engine

PRESETS = Path(__file__).resolve().parents[1] / "cnnstudio" / "resources" / "presets"
RUNS = (("pix2pix", "chapter8-pix2pix-edges2shapes"), ("l1only", "chapter8-pix2pix-l1-only"))


def train(preset: str, root: str, epochs: int | None):
    """The preset's run through the engine; (model, seconds, run_dir)."""
    config = RunConfig.load(PRESETS / f"{preset}.json")
    if epochs is not None:
        config.training.epochs = epochs
    config.name = "bench"
    t0 = time.perf_counter()
    result = engine.run(config, runs_root=root)
    seconds = time.perf_counter() - t0
    if result.status != "finished":
        raise SystemExit(f"{preset} run {result.status}: {result.summary}")
    return load_model_file(result.run_dir / "model.keras"), seconds, result.run_dir


def save_rows(path: Path, inputs, outputs: dict, targets, rows: int = 8) -> None:
    """One PNG: per row the edges, each model's output and the target."""
    from PIL import Image

    cells = [np.repeat(inputs[:rows], 3, axis=-1), *(o[:rows] for o in outputs.values()),
             targets[:rows]]
    grid = np.concatenate([np.concatenate(list(c), axis=0) for c in cells], axis=1)
    Image.fromarray(grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.NEAREST) \
        .save(path)


def figures(epochs: int | None = None, keep: str | None = None) -> dict:
    """Train both presets, measure on the test pairs; the figures as a dict."""
    out: dict = {}
    outputs = {}
    with tempfile.TemporaryDirectory() as root:
        for key, preset in RUNS:
            model, seconds, _ = train(preset, root, epochs)
            config = RunConfig.load(PRESETS / f"{preset}.json")
            data = load_dataset(config.dataset)
            x, y = data.test.x, data.test_targets
            outputs[key] = model.translate(x)
            out[f"{key}_l1"] = round(probes.mean_l1(outputs[key], y), 4)
            out[f"{key}_sharpness"] = round(probes.sharpness(outputs[key]), 5)
            out[f"{key}_seconds"] = round(seconds, 1)
            out[f"{key}_epochs"] = epochs or config.training.epochs
            if key == "pix2pix":     # what the drawing pad waits for after each stroke
                one = x[:1]
                model.translate(one)
                times = []
                for _ in range(30):
                    t0 = time.perf_counter()
                    model.translate(one)
                    times.append(1000 * (time.perf_counter() - t0))
                out["pad_translate_ms"] = round(float(np.median(times)), 1)
            print(f"{key}: L1 {out[f'{key}_l1']:.4f}  sharpness {out[f'{key}_sharpness']:.5f}  "
                  f"({seconds:.0f} s)", flush=True)
    out["target_sharpness"] = round(probes.sharpness(y), 5)
    out["test_pairs"] = len(y)
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        save_rows(Path(keep) / "pix2pix-vs-l1only.png", x, outputs, y)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, help="override the presets' epochs")
    parser.add_argument("--keep", help="write input | pix2pix | L1-only | target rows here")
    args = parser.parse_args()
    f = figures(args.epochs, args.keep)
    goal("pix2pix_sharpness vs target", f["pix2pix_sharpness"], ">=", 0.8 * f["target_sharpness"])
    goal("pix2pix_sharpness vs l1only", f["pix2pix_sharpness"], ">=", 1.3 * f["l1only_sharpness"])
    goal("pix2pix_l1", f["pix2pix_l1"], "<=", 1.5 * f["l1only_l1"])
    goal("pix2pix_seconds", f["pix2pix_seconds"], "<=", 600, "s")
    goal("pad_translate_ms", f["pad_translate_ms"], "<=", 100, "ms")
    emit(__file__, f)


if __name__ == "__main__":
    main()
