"""The R-CNN family of book chapter 7 side by side on the same 200 held-out shapes images:
selective search's recall, then R-CNN, Fast R-CNN and Mask R-CNN — each trained from
scratch — scored with COCOeval (box AP50) and timed per image on the CPU, warm.

    python benchmarks/rcnn_family.py [--size 64] [--maskrcnn-budget-min 24] [--rounds 20]
                                     [--quick]

R-CNN and Fast R-CNN train as their chapter-7 presets say (resources/presets/
chapter7-rcnn-shapes.json, chapter7-fast-rcnn-shapes.json: data count, model options,
epochs, batch, learning rate), through the studio's own tasks (``prepare`` — selective
search on every training image, labelling — ``compile``, plain ``fit``); their train
seconds include ``prepare``. Mask R-CNN trains as benchmarks/maskrcnn_shapes.py does
(3,000 images, a wall-time budget, cosine rate), on the same image size, with its
anchors scaled to it. The test images are the ``shapes`` test stream of that size
(seed 0), the same for all three.

Per-image milliseconds (median of ``--rounds``, each round the next test image, after
warm-up calls): R-CNN and Fast R-CNN run ``story`` — selective search afresh (no cache),
the CNN(s), per-class NMS — and say how much of it was the CNN (``*_cnn_ms``); Mask
R-CNN is one traced ``predict_on_batch`` (its proposals come from its own RPN).
``--quick`` trains on a few images for an epoch: it proves the script runs, its figures
mean nothing.

Last line, one JSON object: proposal_recall, proposal_ms, rcnn_box_ap50,
fast_rcnn_box_ap50, maskrcnn_box_ap50, rcnn_ms, fast_rcnn_ms, maskrcnn_ms, rcnn_cnn_ms,
fast_rcnn_cnn_ms, cnn_speedup (R-CNN's CNN ms over Fast R-CNN's), rcnn_train_seconds, fast_rcnn_train_seconds, maskrcnn_train_seconds.
Goals (issue 26): proposal_recall ≥ 0.90, rcnn_box_ap50 ≥ 0.70, fast_rcnn_box_ap50 ≥ 0.80,
fast_rcnn_ms × 5 ≤ rcnn_ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from _common import add_rounds, emit, goal, spread

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")      # the figures are CPU figures

from cnnstudio.core.config import RunConfig  # noqa: E402
from cnnstudio.core.keras_setup import keras  # noqa: E402
from cnnstudio.core.registry import ARCHITECTURES, TASKS, ensure_loaded  # noqa: E402

PRESETS = Path(__file__).resolve().parents[1] / "cnnstudio" / "resources" / "presets"
TEST_COUNT = 200


def shapes(size: int, count: int):
    from cnnstudio.core.families.detection.shapes_data import load_shapes

    return load_shapes({"size": size, "count": count, "test_count": TEST_COUNT, "seed": 0})


def train_preset(name: str, size: int, quick: bool):
    """(model, train seconds, dataset) of a preset's run through its task, plain ``fit``."""
    config = RunConfig.load(PRESETS / name)
    cfg = config.training
    count = config.dataset.options.get("count", 2000)
    if quick:
        count, cfg.epochs = 48, 1
    dataset = shapes(size, count)
    arch = ARCHITECTURES.get(config.model.id)
    task = TASKS.get(arch.task)
    keras().utils.set_random_seed(cfg.seed)
    t0 = time.perf_counter()
    task.check(dataset, arch.options(config.model.options), cfg)
    model = task.build_model(arch, dataset.input_shape, dataset.num_classes,
                             config.model.options, cfg)
    data = task.prepare(dataset, dataset.input_shape, cfg, lambda event: None)
    task.compile(model, cfg, data)
    prepared = time.perf_counter() - t0
    model.fit(**data.fit_kwargs, epochs=cfg.epochs, verbose=0,
              callbacks=task.callbacks(cfg, data))
    seconds = time.perf_counter() - t0
    print(f"{arch.id}: {model.count_params():,} parameters, {data.num_train} training images "
          f"of {size}×{size}, {cfg.epochs} epochs of batches of {cfg.batch_size}: "
          f"{seconds:.0f} s ({prepared:.0f} s of it selective search and labels)", flush=True)
    return model, seconds, dataset


def train_maskrcnn(size: int, budget_min: float, quick: bool):
    """As benchmarks/maskrcnn_shapes.py: 3,000 images, batches of 8, rate 0.002 on a cosine
    over the steps that fit the budget; anchors scaled from 128-px images to ``size``."""
    from maskrcnn_shapes import budget_callback

    from cnnstudio.core.config import TrainConfig
    from cnnstudio.core.families.detection import maskrcnn_models_tf

    lr, batch = 2e-3, 8
    dataset = shapes(size, 48 if quick else 3000)
    cfg = TrainConfig(epochs=1 if quick else 1000, batch_size=batch, learning_rate=lr,
                      seed=1, validation_split=0.0)
    task = TASKS.get("detection")
    keras().utils.set_random_seed(cfg.seed)
    r = size / 128
    model = maskrcnn_models_tf.build_maskrcnn(
        size, ["background", *dataset.class_names],
        anchor_sizes=((32.0 * r, 45.0 * r), (64.0 * r, 90.0 * r)))
    data = task.prepare(dataset, dataset.input_shape, cfg, lambda event: None)
    task.compile(model, cfg, data)
    t0 = time.perf_counter()
    model.fit(**data.fit_kwargs, epochs=cfg.epochs, verbose=0,
              callbacks=[budget_callback(model, budget_min * 60, lr, t0)])
    seconds = time.perf_counter() - t0
    steps = int(model.optimizer.iterations.numpy())
    print(f"maskrcnn: {steps} steps of {batch} in {seconds:.0f} s", flush=True)
    return model, seconds


def per_image_ms(fn, images, rounds: int, warmup: int = 3) -> list[float]:
    for k in range(warmup):
        fn(images[k % len(images)])
    times = []
    for k in range(rounds):
        t = time.perf_counter()
        fn(images[k % len(images)])
        times.append((time.perf_counter() - t) * 1e3)
    return times


def story_ms(model, images, rounds: int) -> tuple[list[float], float]:
    """Whole-story milliseconds per image, and the median CNN share (R-CNN: "cnn";
    Fast R-CNN: "backbone" + "heads")."""
    cnn = []

    def one(image):
        ms = model.story(image)["ms"]
        cnn.append(ms.get("cnn", ms.get("backbone", 0.0) + ms.get("heads", 0.0)))

    times = per_image_ms(one, images, rounds)
    return times, statistics.median(cnn[-rounds:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=64, help="image side (multiple of 16)")
    parser.add_argument("--maskrcnn-budget-min", type=float, default=24.0,
                        help="Mask R-CNN's training wall time in minutes")
    parser.add_argument("--quick", action="store_true",
                        help="tiny training runs: proves the script works, nothing more")
    add_rounds(parser, 20, "timed images per model (ms figures are medians)")
    args = parser.parse_args()
    ensure_loaded()
    from cnnstudio.core.families.detection import fast_rcnn_task, maskrcnn_task, rcnn_task
    from cnnstudio.core.families.detection import selective_search as ss

    print(f"{os.cpu_count()} cores; shapes {args.size}×{args.size}, {TEST_COUNT} held-out "
          "images", flush=True)
    test = shapes(args.size, 1).test
    t = time.perf_counter()
    proposals = [ss.propose(image, "fast", 300) for image in test.x]
    proposal_ms = (time.perf_counter() - t) * 1e3 / len(test.x)
    recall = ss.proposal_recall([a["boxes"] for a in test.annotations], proposals)
    print(f"selective search (fast): recall {recall:.3f} at IoU 0.5, "
          f"{sum(map(len, proposals)) / len(proposals):.0f} boxes and {proposal_ms:.0f} ms "
          "per image", flush=True)

    figures = {"proposal_recall": round(recall, 4), "proposal_ms": round(proposal_ms, 1)}
    runs = (("rcnn", "chapter7-rcnn-shapes.json", rcnn_task),
            ("fast_rcnn", "chapter7-fast-rcnn-shapes.json", fast_rcnn_task))
    for key, preset, module in runs:
        model, seconds, dataset = train_preset(preset, args.size, args.quick)
        ap = module.INSTANCE.evaluate_split(model, dataset.test)
        times, cnn_ms = story_ms(model, dataset.test.x, args.rounds)
        print(f"{key}: box AP50 {ap['box_ap50']:.3f}, AP {ap['box_ap']:.3f}; "
              f"{statistics.median(times):.1f} ms per image ({cnn_ms:.1f} ms of CNN)",
              flush=True)
        figures.update({f"{key}_box_ap50": round(ap["box_ap50"], 4),
                        f"{key}_box_ap": round(ap["box_ap"], 4),
                        f"{key}_ms": round(statistics.median(times), 1),
                        f"{key}_ms_spread": spread(times, 1),
                        f"{key}_cnn_ms": round(cnn_ms, 1),
                        f"{key}_train_seconds": round(seconds, 1)})
        del model

    model, seconds = train_maskrcnn(args.size, 0.5 if args.quick else
                                    args.maskrcnn_budget_min, args.quick)
    ap = maskrcnn_task.evaluate_split(model, test)
    times = per_image_ms(lambda image: model.predict_on_batch(image[None]), test.x,
                         args.rounds)
    print(f"maskrcnn: box AP50 {ap['box_ap50']:.3f}; {statistics.median(times):.1f} ms per "
          "image", flush=True)
    figures.update({"maskrcnn_box_ap50": round(ap["box_ap50"], 4),
                    "maskrcnn_box_ap": round(ap["box_ap"], 4),
                    "maskrcnn_ms": round(statistics.median(times), 1),
                    "maskrcnn_ms_spread": spread(times, 1),
                    "maskrcnn_train_seconds": round(seconds, 1)})

    # Both pay selective search; the CNN alone shows what sharing one feature map saves.
    figures["cnn_speedup"] = round(figures["rcnn_cnn_ms"] / max(figures["fast_rcnn_cnn_ms"],
                                                                1e-9), 2)
    goal("proposal_recall", figures["proposal_recall"], ">=", 0.90)
    goal("rcnn_box_ap50", figures["rcnn_box_ap50"], ">=", 0.70)
    goal("fast_rcnn_box_ap50", figures["fast_rcnn_box_ap50"], ">=", 0.80)
    goal("fast_rcnn_ms × 5", figures["fast_rcnn_ms"] * 5, "<=", figures["rcnn_ms"], " ms")
    emit(__file__, {**figures, "size": args.size, "rounds": args.rounds,
                    "quick": args.quick})


if __name__ == "__main__":
    main()
