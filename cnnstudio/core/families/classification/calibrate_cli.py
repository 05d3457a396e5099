"""``cnnstudio calibrate RUN_DIR [--json]``: fit a classifier run's temperature on its held-out
images, print the ECE before and after, and write ``calibration.json`` into the run."""

from __future__ import annotations

import json

from cnnstudio.core.errors import StudioError

HELP = "fit a classifier run's temperature (calibration) and write calibration.json"


def add_arguments(parser) -> None:
    parser.add_argument("run_dir")
    parser.add_argument("--bins", type=int, default=15,
                        help="equal-width confidence bins of the ECE (default 15)")
    parser.add_argument("--no-use", action="store_true",
                        help="store T without applying it to the prediction dock")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON "
                                                            "object")


def run(args) -> int:
    from cnnstudio.core.families.classification import calibration_run as cr

    if not 1 <= args.bins <= 100:
        raise StudioError(f"--bins must be between 1 and 100, got {args.bins}")
    result = cr.calibrate_run(args.run_dir, bins=args.bins)
    path = cr.save_calibration(args.run_dir, result, use=not args.no_use)
    if args.json:
        brief = {k: v for k, v in result.items() if not k.startswith("reliability")}
        print(json.dumps({**brief, "use": not args.no_use, "file": str(path)}))
        return 0
    print(summary(result))
    print(f"Wrote {path}" + (" (not applied: --no-use)" if args.no_use else
                             " (the prediction dock now shows calibrated probabilities)"))
    return 0


def summary(result: dict) -> str:
    """Two or three lines a student can read."""
    split = result["fitted_on"]
    lines = [f"Temperature T = {result['temperature']:.3f}, fitted on {result['images']} "
             f"{split} images" + ("" if split == "validation" else
                                  " (the run has no validation split)"),
             f"ECE on them: {result['ece_before']:.4f} → {result['ece_after']:.4f} "
             f"(NLL {result['nll_before']:.4f} → {result['nll_after']:.4f})"]
    test = result.get("test")
    if test:
        lines.append(f"ECE on {test['images']} test images: {test['ece_before']:.4f} → "
                     f"{test['ece_after']:.4f}")
    return "\n".join(lines)
