"""The compact Mask R-CNN trained from scratch on generated shapes within a fixed wall-time
budget, then scored with COCOeval on 200 held-out images.

    python benchmarks/maskrcnn_shapes.py [--budget-min 24] [--train-images 3000]
                                         [--batch-size 8] [--lr 0.002] [--seed 1]
                                         [--rounds 20]

The budget is kept by measuring the first steps and fixing the number of steps that fit,
re-sized every few hundred steps from the mean step time so far (the learning rate follows
a cosine over those steps), so a slower machine trains fewer steps rather than
overrunning. Data, model and compilation are the studio's own
(the ``shapes`` dataset, ``maskrcnn`` with its defaults, the detection task's arrays);
training is plain ``fit`` with the model's ``train_step``. ``infer_ms`` is one 128×128
image through the traced model on the CPU, warm (median of ``--rounds``, 20; its spread
is ``infer_ms_spread``).

Last line, one JSON object: mask_ap50, box_ap50, mask_ap, box_ap, infer_ms, train_seconds.
Goals (issue 10): mask_ap50 ≥ 0.90, box_ap50 ≥ 0.90, infer_ms ≤ 150.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

from _common import add_rounds, emit, goal, repeat_ms, spread

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")      # the figures are CPU figures

from cnnstudio.core.config import TrainConfig  # noqa: E402
from cnnstudio.core.keras_setup import keras  # noqa: E402
from cnnstudio.core.registry import (
    ARCHITECTURES,  # noqa: E402
    TASKS,  # noqa: E402
)

CALIBRATE = 20      # steps timed (after two tracing steps) to size the budget
RECHECK = 250       # steps between re-sizings from the mean step time so far


def budget_callback(model, budget_s: float, lr: float, t0: float):
    K = keras()

    class Budget(K.callbacks.Callback):
        """Fix the step count after timing CALIBRATE steps; cosine-decay over it; stop."""

        def __init__(self):
            super().__init__()
            self.step, self.total, self.mark = 0, None, None

        def on_train_batch_begin(self, batch, logs=None):
            self.step += 1
            if self.step == 3:
                self.mark = time.perf_counter()
            if self.step == 3 + CALIBRATE or (self.total and self.step % RECHECK == 0):
                # Re-sized from the mean step so far: epoch ends and evaluation make the
                # first steps an underestimate (a 24-minute budget once ran 26 minutes).
                per_step = (time.perf_counter() - self.mark) / (self.step - 3)
                left = budget_s - (time.perf_counter() - t0)
                total = self.step + max(0, int(left / per_step))
                if self.step == 3 + CALIBRATE:
                    print(f"{per_step * 1000:.0f} ms a step: {total} steps fit the budget",
                          flush=True)
                self.total = total
            if self.total:
                frac = min(1.0, self.step / self.total)
                model.optimizer.learning_rate.assign(lr * 0.5 * (1 + math.cos(math.pi * frac)))
                if self.step >= self.total:
                    model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            print(f"epoch {epoch + 1}, step {self.step}, {time.perf_counter() - t0:.0f} s: "
                  + ", ".join(f"{k} {v:.3f}" for k, v in sorted((logs or {}).items())),
                  flush=True)

    return Budget()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget-min", type=float, default=24.0,
                        help="training wall time in minutes (tracing included)")
    parser.add_argument("--train-images", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=1)
    add_rounds(parser, 20, "timed inferences of one image (infer_ms), after 3 warm-up calls")
    args = parser.parse_args()

    from cnnstudio.core.families.detection.maskrcnn_task import evaluate_split
    from cnnstudio.core.families.detection.shapes_data import load_shapes

    K = keras()
    K.utils.set_random_seed(args.seed)
    dataset = load_shapes({"count": args.train_images, "test_count": 200})
    cfg = TrainConfig(epochs=1000, batch_size=args.batch_size, learning_rate=args.lr,
                      seed=args.seed, validation_split=0.0)
    arch = ARCHITECTURES.get("maskrcnn")
    task = TASKS.get(arch.task)
    model = task.build_model(arch, dataset.input_shape, dataset.num_classes, {}, cfg)
    data = task.prepare(dataset, dataset.input_shape, cfg, print)
    task.compile(model, cfg, data)
    print(f"maskrcnn: {model.count_params():,} parameters; {data.num_train} training images "
          f"of {dataset.input_shape[0]}×{dataset.input_shape[1]}, batches of "
          f"{args.batch_size}, budget {args.budget_min:g} min, {os.cpu_count()} cores",
          flush=True)

    t0 = time.perf_counter()
    model.fit(**data.fit_kwargs, epochs=cfg.epochs, verbose=0,
              callbacks=[budget_callback(model, args.budget_min * 60, args.lr, t0)])
    train_seconds = time.perf_counter() - t0
    steps = int(model.optimizer.iterations.numpy())
    print(f"trained {steps} steps ({steps * args.batch_size} images) in {train_seconds:.0f} s",
          flush=True)

    t = time.perf_counter()
    figures = evaluate_split(model, dataset.test)
    print(f"COCOeval on {len(dataset.test)} held-out images ({time.perf_counter() - t:.0f} s): "
          + ", ".join(f"{k} {v:.3f}" for k, v in figures.items() if v is not None), flush=True)

    one = dataset.test.x[:1]
    times = repeat_ms(lambda: model.predict_on_batch(one), args.rounds, warmup=3)
    infer_ms = statistics.median(times)
    goal("mask_ap50", figures["mask_ap50"], ">=", 0.90)
    goal("box_ap50", figures["box_ap50"], ">=", 0.90)
    goal("infer_ms", infer_ms, "<=", 150, " ms")
    emit(__file__, {"mask_ap50": round(figures["mask_ap50"], 4),
                    "box_ap50": round(figures["box_ap50"], 4),
                    "mask_ap": round(figures["mask_ap"], 4), "box_ap": round(figures["box_ap"], 4),
                    "infer_ms": round(infer_ms, 1), "train_seconds": round(train_seconds, 1),
                    "rounds": args.rounds, "infer_ms_spread": spread(times, 1)})


if __name__ == "__main__":
    main()
