"""``cnnstudio audit RUN_DIR [--folds 3] [--epochs 2]``: the training images whose labels are
probably wrong (k-fold out-of-sample probabilities, then cleanlab), worst first.

    cnnstudio audit RUN --folds 3 --epochs 2 [--top 20] [--json]
    cnnstudio audit RUN --saved          # print the last audit again, training nothing

The answer is kept in RUN/label-audit.npz for the Suspect labels tab, where each suspect can
be kept, relabelled or excluded (decisions saved beside the dataset, applied by the next run).
"""

from __future__ import annotations

import json
import sys

from cnnstudio.core.errors import StudioError

HELP = "suspect labels: k-fold out-of-sample probabilities and cleanlab's label issues"


def add_arguments(parser) -> None:
    parser.add_argument("run_dir")
    parser.add_argument("--folds", type=int, default=3,
                        help="k: models trained, each without one fold (default 3)")
    parser.add_argument("--epochs", type=int, default=2,
                        help="epochs each fold's model trains (default 2)")
    parser.add_argument("--top", type=int, default=20,
                        help="suspects printed (default 20; 0: all)")
    parser.add_argument("--saved", action="store_true",
                        help="print the run's last audit (label-audit.npz) without training")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    from cnnstudio.core.probes import label_audit as la

    if not 2 <= args.folds <= 20:
        raise StudioError(f"--folds must be between 2 and 20, got {args.folds}")
    if not 1 <= args.epochs <= 1000:
        raise StudioError(f"--epochs must be between 1 and 1000, got {args.epochs}")
    if args.top < 0:
        raise StudioError(f"--top must be 0 (all) or more, got {args.top}")
    _check_kind(args.run_dir)             # a GAN run: one line, before loading anything
    data = la.training_set(args.run_dir)
    if args.saved:
        result = la.load_audit(args.run_dir)
        if result is None:
            raise StudioError(f"{args.run_dir} has no saved audit yet: run 'cnnstudio audit "
                              f"{args.run_dir}' without --saved")
    else:
        result = la.audit_run(args.run_dir, args.folds, args.epochs,
                              None if args.json else _bar(), data=data)
    names = data.class_names
    shown = result.found[:args.top] if args.top else result.found
    rows = [{"index": i, "image": result.keys[i], "given": names[g], "suggested": names[s],
             "self_confidence": round(c, 4)} for i, g, s, c in shown]
    if args.json:
        print(json.dumps({"images": len(result.y), "folds": result.folds,
                          "epochs": result.epochs, "accuracy": round(result.accuracy, 4),
                          "suspects": len(result.found), "shown": rows}))
        return 0
    print(f"{len(result.found)} suspect label(s) among {len(result.y)} training images "
          f"({result.folds} folds × {result.epochs} epochs; the folds' models agree with "
          f"{result.accuracy:.1%} of the given labels)")
    for row in rows:
        print(f"  #{row['index']:<6} {row['image']:<28} given {row['given']:<10} "
              f"suggested {row['suggested']:<10} self-confidence {row['self_confidence']:.3f}")
    if len(shown) < len(result.found):
        print(f"  … {len(result.found) - len(shown)} more (--top 0 for all)")
    print("Keep, relabel or exclude them in the studio's Suspect labels tab.")
    return 0


def _check_kind(run_dir) -> None:
    from cnnstudio.core.families.profile import arch_profile
    from cnnstudio.core.training.rundir import RunDir

    folder = RunDir.open(run_dir)
    model_id = folder.config().model.id
    task = arch_profile(model_id).task
    if task not in ("classification", "transfer"):
        raise StudioError(f"audit works on classifier runs (mlp, lenet5, vgg, resnet, "
                          f"transfer, …); {folder.path.name} is a {model_id} ({task}) run")


def _bar():
    """Progress on stderr, one line rewritten: stdout stays the answer."""
    last = [-1]

    def report(fraction: float, text: str) -> None:
        percent = int(fraction * 100)
        if percent != last[0]:
            last[0] = percent
            print(f"\r{percent:3d}% {text:<40}", end="", file=sys.stderr, flush=True)
            if percent >= 100:
                print(file=sys.stderr)
    return report
