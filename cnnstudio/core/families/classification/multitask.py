"""Multi-task learning (book chapter 5): one trunk, one head per task, one weighted loss.

The architecture ``multitask`` (task ``multitask``) reads a dataset with several label sets
(``multitask_data``: scenes-multitask, mnist-multitask). Its heads are named by the task's
place in the dataset — ``task1``, ``task2``, ``task3`` — so the same options, curves and log
keys serve every multi-task dataset (scenes: shape, colour, count; digits: digit, parity,
≥ 5). ``tasks`` picks which heads train: one head alone is the single-task baseline of the
same trunk. Light: no Keras import here (the builder lives in ``multitask_models``).
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.families.classification.multitask_data import MAX_HEADS, head_key
from cnnstudio.core.families.profile import Plot, Profile, Series
from cnnstudio.core.options import Choice, Float, Int

SUBSETS = ("all", "1", "2", "3", "1+2", "1+3", "2+3")
TASK_HELP = "scenes-multitask: 1 shape, 2 colour, 3 count; mnist-multitask: 1 digit, 2 parity, " \
            "3 ≥ 5"


def loss_weights(options: dict) -> dict[str, float]:
    """head key → the weight of its loss in the total (the options weight_1…weight_3)."""
    return {head_key(i): float(options.get(f"weight_{i + 1}", 1.0)) for i in range(MAX_HEADS)}


def _build(input_shape, num_classes, **options):
    from cnnstudio.core.families.classification.multitask_models import build_multitask

    return build_multitask(input_shape, num_classes, **options)


MULTITASK = Architecture(
    id="multitask", name="Multi-task CNN (chapter 5)",
    description="One convolutional trunk shared by several heads, one per task of the "
                "dataset (scenes: shape, colour and count of the objects; digits: the digit, "
                "its parity, ≥ 5), trained on the weighted sum of the heads' losses. Train "
                "one head alone for the single-task baseline of the same trunk.",
    source="Practical CNNs, chapter 5 (multi-task learning); Caruana 1997", build_fn=_build,
    task="multitask",
    specs=(Choice("trunk", "small", ("small", "mobilenetv2"),
                  "small (a 4-block CNN) or mobilenetv2 (frozen ImageNet features; the weights "
                  "must already be in the Keras cache)"),
           Int("filters", 16, 4, 256, "small trunk: filters of its first block (doubling)",
               step=4),
           Int("head_units", 32, 0, 1024, "units of each head's hidden layer (0: none)",
               step=16),
           Float("dropout", 0.2, 0.0, 0.9, "dropout in each head"),
           Choice("tasks", "all", SUBSETS, "which heads train: all, or by place (" + TASK_HELP
                  + "); one head alone is the single-task baseline"),
           *(Float(f"weight_{i}", 1.0, 0.0, 10.0, f"weight of task {i}'s loss in the total",
                   step=0.1, rebuild=False) for i in range(1, MAX_HEADS + 1))),
    min_size=8)

_heads = tuple(head_key(i) for i in range(MAX_HEADS))
MULTITASK_PROFILE = Profile(
    "multitask", "classifier",
    (Plot("Loss (lower is better)", (Series("loss", "total (weighted)"),
                                     *(Series(f"{h}_loss", f"task {h[-1]}") for h in _heads)),
          log_y=True),
     Plot("Accuracy per head (higher is better)",
          tuple(Series(f"{h}_accuracy", f"task {h[-1]}") for h in _heads), y_range=(0, 1))),
    prediction="multitask", best_metric="val_loss", best_mode="min")
