"""``cnnstudio translate RUN_DIR IMAGE... --out DIR``: pictures through a pix2pix or CycleGAN run.

    cnnstudio translate runs/pix2pix-1 sketch.png photo.jpg --out translated/
    cnnstudio translate runs/cyclegan-1 digit.png --out translated/ --direction b2a

A pix2pix run translates edge maps: a photo is turned into its edges first, a sketch is
used as drawn (``--input`` forces either); each picture gives ``<name>-pix2pix.png`` and,
when its edges were made here, ``<name>-edges.png``. A CycleGAN run translates with G
(``a2b``) or F (``b2a``) and writes the translation and its round trip
(``<name>-a2b.png``, ``<name>-a2b-back.png``). A file that cannot be read is named and
skipped; the others are still translated (exit status 1 when any was skipped).
"""

from __future__ import annotations

from pathlib import Path

from cnnstudio.core.errors import StudioError

HELP = "translate images with a pix2pix or CycleGAN run"
TASKS = ("pix2pix", "cyclegan")


def add_arguments(parser) -> None:
    from cnnstudio.core.families.generative.translation_inputs import MODES

    parser.add_argument("run_dir")
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--out", required=True, help="the folder to write the PNGs into")
    parser.add_argument("--direction", choices=("a2b", "b2a"), default="a2b",
                        help="CycleGAN: a2b translates with G (domain A → B), b2a with F")
    parser.add_argument("--input", choices=MODES, default="auto",
                        help="pix2pix: auto keeps a sketch as drawn and turns a photo into "
                        "its edges; edges always does, as-is never does")


def _open(run_dir):
    from cnnstudio.core.families.profile import arch_profile
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.training.rundir import RunDir

    folder = RunDir.open(run_dir)
    model_id = folder.config().model.id
    task = arch_profile(model_id).task
    if task not in TASKS:
        raise StudioError(f"run {folder.path.name} is a {model_id} run: translate works on "
                          "pix2pix and cyclegan runs (image-to-image translation)")
    return task, load_model_file(folder.trained_model_path())


def translate_one(task: str, model, image, args) -> tuple[dict[str, object], list[str]]:
    """{file suffix: uint8 image} to write for one picture, and what was done to it."""
    from cnnstudio.core.families.generative.translation_inputs import (
        domain_image,
        source_image,
    )

    if task == "pix2pix":
        from cnnstudio.core.families.generative.translation_data import edges_of

        source, notes = source_image(image, model.source_shape, edges_of, args.input)
        out = {"pix2pix": model.translate(source[None])[0]}
        if "turned into its edges" in notes:
            out["edges"] = source
        return out, notes
    fitted, notes = domain_image(image, model.image_shape)
    there, back = model.cycle(fitted[None], args.direction)
    return {args.direction: there[0], f"{args.direction}-back": back[0]}, notes


def run(args) -> int:
    from cnnstudio.core.errors import ImageError
    from cnnstudio.core.families.generative.gan_probes import save_png
    from cnnstudio.core.imaging import read_image_noted

    out = Path(args.out).expanduser()
    if out.exists() and not out.is_dir():
        raise StudioError(f"--out must be a folder, and {out} is a file")
    task, model = _open(args.run_dir)
    out.mkdir(parents=True, exist_ok=True)
    skipped = 0
    for name in args.images:
        try:
            image, read_note = read_image_noted(name)
        except ImageError as exc:
            print(f"skipped {name}: {exc}")
            skipped += 1
            continue
        images, notes = translate_one(task, model, image, args)
        written = []
        for suffix, picture in images.items():
            path = out / f"{Path(name).stem}-{suffix}.png"
            save_png(picture, path)         # a full disk: WriteFailed, one line, no file
            written.append(path.name)
        done = [n for n in (read_note.note if read_note else None, *notes) if n]
        print(f"{name} → {', '.join(written)}" + (f" ({'; '.join(done)})" if done else ""))
    return 1 if skipped else 0
