"""Insight panel latency on this machine's CPU: LeNet-5 on 28×28 MNIST digits.

    .venv/bin/python benchmarks/insight_latency.py [--epochs 2] [--dataset mnist-5k] [--rounds 20]

Prints each figure against the issue's goal, then one JSON object on the last line:
feature maps of every conv/pool layer for one image (goal ≤ 150 ms), the filters
panel refresh (≤ 50 ms), Grad-CAM for one image (≤ 200 ms), and the per-epoch
probe recorder as a share of epoch time (≤ 5 %). Latencies are medians of ``--rounds``
calls after a warm-up call (the first call builds the cached extractor models), their
spreads beside them (``*_ms_spread``: min, max).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from _common import add_rounds, emit, goal, repeat_ms, spread

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def median_ms(fn, rounds: int, spreads: dict, key: str) -> float:
    """The median of ``rounds`` calls after a warm-up (it builds cached models, traces);
    the spread goes to ``spreads[key]``."""
    times = repeat_ms(fn, rounds)
    spreads[key] = spread(times, 2)
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--dataset", default="mnist-5k")
    add_rounds(parser, 20, "timed calls of each latency, after a warm-up call")
    args = parser.parse_args()
    spreads = {}

    from PySide6.QtWidgets import QApplication

    from cnnstudio.core.config import RunConfig
    from cnnstudio.core.datasets import load_dataset
    from cnnstudio.core.keras_setup import keras
    from cnnstudio.core.probes.feature_maps import FeatureMaps
    from cnnstudio.core.probes.filters import conv_kernels
    from cnnstudio.core.probes.gradcam import grad_cam
    from cnnstudio.core.probes.recorder import choose_probe_images, make_probe_hook
    from cnnstudio.core.registry import ARCHITECTURES
    from cnnstudio.core.training.engine import run
    from cnnstudio.core.training.events import EpochEnd
    from cnnstudio.gui.families.classification.insight_filters import FiltersPanel

    app = QApplication.instance() or QApplication([])
    keras().utils.set_random_seed(0)
    model = ARCHITECTURES.get("lenet5").build((28, 28, 1), 10)
    image = (keras().random.uniform((28, 28, 1)) * 255).numpy().astype("uint8")

    maps_ms = median_ms(lambda: FeatureMaps.for_model(model)(image), args.rounds, spreads,
                        "feature_maps_ms_spread")
    gradcam_ms = median_ms(lambda: grad_cam(model, image), args.rounds, spreads,
                           "gradcam_ms_spread")
    panel = FiltersPanel()
    panel.resize(800, 600)
    panel.show()
    kernels = conv_kernels(model)

    def refresh():             # what an epoch end costs the GUI: read weights, redraw
        panel.show_kernels(conv_kernels(model))
        app.processEvents()

    filters_ms = median_ms(refresh, args.rounds, spreads, "filters_refresh_ms_spread")
    panel.layer_box.setCurrentText(list(kernels)[-1])
    filters_c3_ms = median_ms(refresh, args.rounds, spreads, "filters_refresh_c3_ms_spread")
    panel.close()

    config = RunConfig()
    config.dataset.id = args.dataset
    if args.dataset == "digits":
        config.dataset.options = {"size": 28}
    config.training.epochs = args.epochs
    dataset = load_dataset(config.dataset)
    images, labels = choose_probe_images(dataset, count=8)
    epochs = []
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        hook = make_probe_hook(run_dir, images, labels, dataset.class_names)
        run(config, run_dir=run_dir, epoch_hooks=[hook],
            sink=lambda e: epochs.append(e.seconds) if isinstance(e, EpochEnd) else None)
        probe_bytes = sum(p.stat().st_size for p in (run_dir / "probes").glob("epoch-*.npz"))
    # The first call builds the extractor; later epochs show the steady cost.
    epoch_s = statistics.median(epochs)
    probe_s = statistics.median(hook.seconds[1:] or hook.seconds)
    share = 100 * probe_s / epoch_s

    goals = [("feature maps, all layers, one image", maps_ms, 150, "ms"),
             ("filters panel refresh (c1)", filters_ms, 50, "ms"),
             ("filters panel refresh (c3)", filters_c3_ms, 50, "ms"),
             ("Grad-CAM, one image", gradcam_ms, 200, "ms"),
             ("per-epoch probes / epoch time", round(share, 2), 5, "%")]
    for name, value, target, unit in goals:
        goal(name, value, "<=", target, f" {unit}")
    print(f"epoch {epoch_s:.2f} s on {args.dataset}, probe hook {1000 * probe_s:.1f} ms "
          f"(first call {1000 * hook.seconds[0]:.1f} ms), "
          f"{probe_bytes / len(hook.seconds) / 1024:.1f} KiB per epoch")
    emit(__file__, {
        "model": "lenet5", "input": [28, 28, 1], "backend": keras().backend.backend(),
        "feature_maps_ms": maps_ms, "filters_refresh_ms": filters_ms,
        "filters_refresh_c3_ms": filters_c3_ms, "gradcam_ms": gradcam_ms,
        "probe_share_percent": round(share, 2), "probe_ms": round(1000 * probe_s, 1),
        "probe_first_ms": round(1000 * hook.seconds[0], 1), "epoch_s": round(epoch_s, 2),
        "probe_kib_per_epoch": round(probe_bytes / len(hook.seconds) / 1024, 1),
        "dataset": args.dataset, "epochs": args.epochs, "rounds": args.rounds, **spreads})


if __name__ == "__main__":
    main()
