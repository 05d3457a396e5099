"""``cnnstudio attack RUN_DIR [IMAGE] --eps 0.1``: fool a trained classifier.

    cnnstudio attack RUN IMAGE --eps 0.1 [--method pgd] [--target 3] [--out adv.png] [--json]
    cnnstudio attack RUN --curve [--eps-values 0,0.05,0.1] [--samples 500] [--out rows.png]
"""

from __future__ import annotations

import json
from pathlib import Path

from cnnstudio.core.errors import StudioError

HELP = "adversarial examples (FGSM, PGD) against a classification run"
TASKS = ("classification", "transfer")


def add_arguments(parser) -> None:
    parser.add_argument("run_dir")
    parser.add_argument("image", nargs="?", help="the image to attack (PNG, JPEG, …)")
    parser.add_argument("--eps", type=float, default=0.1,
                        help="the largest change per pixel, 0..1 of the 0..255 range "
                             "(default 0.1)")
    parser.add_argument("--method", choices=("fgsm", "pgd"), default="fgsm",
                        help="fgsm: one step; pgd: several projected steps (default fgsm)")
    parser.add_argument("--steps", type=int, default=10, help="PGD steps (default 10)")
    parser.add_argument("--target", metavar="CLASS",
                        help="a class name or index the model should say (targeted attack)")
    parser.add_argument("--out", help="PNG: the adversarial image, or with --curve the "
                                      "example rows (one per ε)")
    parser.add_argument("--curve", action="store_true",
                        help="accuracy against ε on a sample of the run's test set")
    parser.add_argument("--eps-values", metavar="LIST",
                        help="with --curve: comma-separated ε values (default "
                             "0,0.01,0.02,0.05,0.1,0.15,0.2,0.3)")
    parser.add_argument("--samples", type=int, default=500,
                        help="with --curve: test images used (default 500)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _classifier(run_dir):
    """(model, class names, input shape) of a classification run; anything else: one line."""
    from cnnstudio.core.families.profile import arch_profile
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.training.rundir import RunDir

    folder = RunDir.open(run_dir)
    model_id = folder.config().model.id
    task = arch_profile(model_id).task
    if task not in TASKS:
        raise StudioError(f"attack works on classification and transfer runs (mlp, lenet5, "
                          f"vgg, resnet, transfer, …); {folder.path.name} is a {model_id} "
                          f"({task}) run")
    path = folder.trained_model_path()
    info = folder.read_json("dataset.json", {}) or {}
    model = load_model_file(path)
    names = [str(n) for n in info.get("class_names") or []]
    return model, names, info.get("input_shape")


def _out_path(text: str | None) -> Path | None:
    if text is None:
        return None
    out = Path(text).expanduser()
    if out.suffix.lower() != ".png":
        raise StudioError(f"--out must name a .png file, got {text}")
    if not out.parent.is_dir():
        raise StudioError(f"folder not found for --out: {out.parent}")
    return out


def _save_png(image, out: Path) -> None:
    """Whole or not at all (a temporary name, then renamed): a full disk leaves no half PNG."""
    import numpy as np
    from PIL import Image

    from cnnstudio.core.atomic import atomic_path

    image = np.asarray(image, np.uint8)
    with atomic_path(out) as temp:
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(temp, "PNG")


def _eps_values(text: str | None) -> list[float]:
    from cnnstudio.core.probes.adversarial_curve import EPS_LADDER

    if not text:
        return list(EPS_LADDER)
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise StudioError(f"--eps-values must be numbers separated by commas, got {text}") \
            from None
    if not values or any(not 0 <= v <= 1 for v in values):
        raise StudioError(f"--eps-values must each lie between 0 and 1, got {text}")
    return values


def run(args) -> int:
    if not 0 <= args.eps <= 1:
        raise StudioError(f"--eps must be between 0 and 1 (a fraction of the 0..255 range), "
                          f"got {args.eps}")
    if not 1 <= args.steps <= 1000:
        raise StudioError(f"--steps must be between 1 and 1000, got {args.steps}")
    if args.image is None and not args.curve:
        raise StudioError("give an IMAGE to attack, or --curve for accuracy against ε on "
                          "the test set")
    out = _out_path(args.out)
    if args.curve:
        return _curve(args, out)
    return _one_image(args, out)


def _one_image(args, out: Path | None) -> int:
    from cnnstudio.core.imaging import read_image
    from cnnstudio.core.probes import adversarial as adv

    image = read_image(args.image)            # unreadable: ImageError, one line
    model, names, shape = _classifier(args.run_dir)
    original = adv.prepare(model, image, shape)
    names = names or [str(i) for i in range(int(adv.probabilities(model, original[None])
                                                  .shape[1]))]
    target = None if args.target is None else adv.class_index(args.target, names)
    found = adv.attack_image(model, original, args.eps, args.method, target,
                             steps=args.steps)
    if out is not None:
        _save_png(found.image, out)
    before, after = adv.top_k(found.before, names), adv.top_k(found.after, names)
    if args.json:
        print(json.dumps({
            "method": found.method, "eps": found.eps, "fooled": found.fooled,
            "label": names[found.label],
            "target": None if target is None else names[target],
            "max_change": int(abs(found.perturbation).max()),
            "before": [{"class": n, "probability": p} for n, p in before],
            "after": [{"class": n, "probability": p} for n, p in after],
            "out": str(out) if out else None}))
        return 0
    goal = f"toward {names[target]}" if target is not None else f"away from {names[found.label]}"
    print(f"{found.method.upper()} ε={found.eps:g} {goal}: "
          f"{'fooled' if found.fooled else 'not fooled'} "
          f"(largest change {int(abs(found.perturbation).max())} grey levels)")
    print("before: " + ", ".join(f"{n} {p:.1%}" for n, p in before))
    print("after:  " + ", ".join(f"{n} {p:.1%}" for n, p in after))
    if out is not None:
        print(f"Wrote the adversarial image to {out}")
    return 0


def _curve(args, out: Path | None) -> int:
    from cnnstudio.core.probes.adversarial_curve import (
        accuracy_curve,
        example_grid,
        sample_test_split,
    )

    if args.target is not None:
        raise StudioError("--target attacks one IMAGE; the --curve is untargeted")
    if args.samples < 1:
        raise StudioError(f"--samples must be at least 1, got {args.samples}")
    eps_values = _eps_values(args.eps_values)
    model, _, _ = _classifier(args.run_dir)
    images, labels, _ = sample_test_split(args.run_dir, args.samples)
    curve = accuracy_curve(model, images, labels, eps_values, args.method, steps=args.steps)
    if out is not None:
        _save_png(example_grid(curve), out)
    if args.json:
        print(json.dumps({**curve.as_json(), "out": str(out) if out else None}))
        return 0
    print(f"{curve.method.upper()} on {curve.count} test images:")
    for eps, accuracy in zip(curve.eps_values, curve.accuracy, strict=True):
        print(f"  ε={eps:<5g} accuracy {accuracy:.1%}")
    if out is not None:
        print(f"Wrote the example rows (one per ε) to {out}")
    return 0
