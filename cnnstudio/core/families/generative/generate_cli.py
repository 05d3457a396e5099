"""``cnnstudio generate RUN_DIR --out grid.png``: a GAN run's samples, and what ``predict``
says on a generative run."""

from __future__ import annotations

from pathlib import Path

from cnnstudio.core.errors import StudioError

HELP = "a square grid PNG of a GAN run's samples"


def add_arguments(parser) -> None:
    parser.add_argument("run_dir")
    parser.add_argument("--count", type=int, default=64, help="samples (default 64: 8×8)")
    parser.add_argument("--out", required=True, help="the PNG file to write")
    parser.add_argument("--seed", type=int, default=0, help="the same seed, the same samples")


def run(args) -> int:
    """A GAN run's samples as one square grid PNG (blank cells pad a non-square count)."""
    import math

    import numpy as np

    from cnnstudio.core.families.generative import gan_probes
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.training.rundir import RunDir

    if not 1 <= args.count <= 4096:
        raise StudioError(f"--count must be between 1 and 4096, got {args.count}")
    out = Path(args.out).expanduser()
    if out.suffix.lower() != ".png":
        raise StudioError(f"--out must name a .png file, got {args.out}")
    if not out.parent.is_dir():
        raise StudioError(f"folder not found for --out: {out.parent}")
    folder = RunDir.open(args.run_dir)
    path = folder.model_path()
    if path is None:
        raise StudioError(f"run {folder.path.name} has no trained model yet")
    model = load_model_file(path)
    if not hasattr(model, "latent_size"):
        raise StudioError(f"run {folder.path.name} is a {folder.config().model.id} run, not a "
                          "GAN: generate needs a gan-mlp, dcgan or ssgan run")
    images = gan_probes.generate(model, args.count, seed=args.seed)
    side = math.ceil(math.sqrt(args.count))
    blank = np.zeros((side * side - len(images), *images.shape[1:]), np.uint8)
    grid = gan_probes.tile_grid(np.concatenate([images, blank]), cols=side)
    gan_probes.save_png(grid, out)    # a full disk: WriteFailed, one line, no file
    print(f"Wrote {args.count} samples ({side}×{side} grid, {grid.shape[1]}×{grid.shape[0]} "
          f"px, seed {args.seed}) to {out}")
    return 0


def refuse_predict(args) -> int:
    """A GAN or an autoencoder has no classes to rank: say what to use instead."""
    from cnnstudio.core.families.profile import arch_profile
    from cnnstudio.core.training.rundir import RunDir

    run_dir = args.run_dir
    model_id = RunDir.open(run_dir).config().model.id
    if arch_profile(model_id).prediction.startswith("translate"):
        raise StudioError(f"{model_id} translates images rather than classifying them: "
                          f"'cnnstudio translate {run_dir} IMAGE... --out DIR'")
    if arch_profile(model_id).prediction == "reconstruct":
        raise StudioError(f"{model_id} is an autoencoder: it reconstructs images rather than "
                          "classifying them; drop an image on the studio's prediction dock")
    raise StudioError(f"{model_id} is a GAN: 'predict' ranks a classifier's classes; make "
                      f"samples with 'cnnstudio generate {run_dir} --out grid.png', or drop "
                      "an image on the studio's prediction dock for its realness (and an "
                      "SSGAN's class)")
