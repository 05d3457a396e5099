"""``cnnstudio surgery RUN_DIR --layer L``: switch a classifier's filters off and see the cost.

    cnnstudio surgery RUN --layer c3 --off 3,7 [--sample 500]   # accuracy and confusion change
    cnnstudio surgery RUN --layer c3 --rank                     # each filter by its drop
    cnnstudio surgery RUN --layer c3 --off 3,7 --save-as no-3-7 # the cut model as a new run
"""

from __future__ import annotations

import json

import numpy as np

from cnnstudio.core.errors import StudioError

HELP = "network surgery: switch convolution filters off, rank them, save the cut model"


def add_arguments(parser) -> None:
    parser.add_argument("run_dir")
    parser.add_argument("--layer", required=True, help="the convolution layer to cut (its name)")
    parser.add_argument("--off", metavar="LIST", help="filters to switch off, e.g. 3,7")
    parser.add_argument("--rank", action="store_true",
                        help="rank the layer's filters by how much accuracy drops without each")
    parser.add_argument("--sample", type=int, default=500,
                        help="test images used (default 500; the whole split if smaller)")
    parser.add_argument("--save-as", metavar="NAME",
                        help="write the cut model as a new run named NAME beside this one "
                             "(this run is never changed)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _filters(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        return sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise StudioError(f"--off must be filter numbers separated by commas, got {text}") \
            from None


def _changes(before: np.ndarray, after: np.ndarray, names: list[str], top: int = 5) -> list:
    """The confusion cells that moved most: (true, predicted, before, after)."""
    delta = after.astype(np.int64) - before.astype(np.int64)
    order = np.argsort(-np.abs(delta), axis=None, kind="stable")[:top]
    label = [*names, *map(str, range(len(names), len(delta)))]
    return [(label[t], label[p], int(before[t, p]), int(after[t, p]))
            for t, p in (np.unravel_index(i, delta.shape) for i in order) if delta[t, p]]


def run(args) -> int:
    from cnnstudio.core.families.classification.attack_cli import _classifier
    from cnnstudio.core.probes import surgery
    from cnnstudio.core.probes.adversarial_curve import sample_test_split

    off = _filters(args.off)
    if args.sample < 1:
        raise StudioError(f"--sample must be at least 1, got {args.sample}")
    if args.save_as is not None and not off:
        raise StudioError("--save-as needs filters to switch off (--off 3,7): an uncut copy "
                          "is the run itself")
    model, names, _ = _classifier(args.run_dir)
    cut = surgery.cut(model, {args.layer: off})          # checks the layer and the filters
    count = surgery.filter_count(surgery._layer(model, args.layer))
    images, labels, split_names = sample_test_split(args.run_dir, args.sample)
    names = names or split_names
    uncut = surgery.evaluate(model, images, labels)
    after = surgery.evaluate(cut, images, labels) if off else uncut
    ranking = surgery.rank_filters(model, args.layer, images, labels) if args.rank else []
    saved = None
    if args.save_as is not None:
        saved = surgery.save_as_run(cut, args.run_dir, args.save_as,
                                    test={"accuracy": after["accuracy"], "images": len(labels)})
    if args.json:
        print(json.dumps({
            "layer": args.layer, "filters": count, "off": off, "test_images": len(labels),
            "accuracy_uncut": uncut["accuracy"], "accuracy": after["accuracy"],
            "confusion_uncut": uncut["confusion"].tolist(),
            "confusion": after["confusion"].tolist(),
            "ranking": [{"filter": f, "accuracy_without": a, "drop": d}
                        for f, a, d in ranking],
            "saved": str(saved) if saved else None}))
        return 0
    print(f"Layer {args.layer}: {count} filters · {len(labels)} test images")
    if off:
        change = 100 * (after["accuracy"] - uncut["accuracy"])
        print(f"accuracy {uncut['accuracy']:.1%} uncut → {after['accuracy']:.1%} without "
              f"filter{'s' if len(off) > 1 else ''} {', '.join(map(str, off))} "
              f"({change:+.1f} points)")
        moved = _changes(uncut["confusion"], after["confusion"], names)
        if moved:
            print("confusion cells that moved most (true → predicted: before → after): " +
                  "; ".join(f"{t} → {p}: {b} → {a}" for t, p, b, a in moved))
    else:
        print(f"accuracy {uncut['accuracy']:.1%} (nothing switched off: --off 3,7)")
    if ranking:
        print("filter  accuracy without it  drop (points)")
        for f, accuracy, drop in ranking:
            print(f"{f:>6}  {accuracy:>19.1%}  {100 * drop:+.1f}")
    if saved:
        print(f"Wrote the cut model as a new run: {saved}")
    return 0
