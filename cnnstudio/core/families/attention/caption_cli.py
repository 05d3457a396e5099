"""``cnnstudio predict RUN_DIR IMAGE...`` on a captioning run: one caption per image.

    cnnstudio predict runs/…-captioner scene.png [--beam 3] [--json]
    scene.png  a red circle above a small blue square

Images of any size are fitted to the model's 64×64 colour input as the dataset draws
its scenes. An unreadable file is one line on stderr (exit 2); the others still print.
"""

from __future__ import annotations

import json
from pathlib import Path

from cnnstudio.core.errors import StudioError


def is_captioning_run(run_dir) -> bool:
    from cnnstudio.core.families.profile import arch_profile
    from cnnstudio.core.training.rundir import RunDir

    return arch_profile(RunDir.open(run_dir).config().model.id).prediction == "caption"


def predict(args) -> int:
    from cnnstudio.core.families.attention import caption_decode
    from cnnstudio.core.imaging import for_each_image
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.training.rundir import RunDir

    beam = getattr(args, "beam", 1)
    if not isinstance(beam, int) or not 1 <= beam <= 16:
        raise StudioError(f"--beam must be an integer from 1 to 16, got {beam!r}")
    folder = RunDir.open(args.run_dir)
    path = folder.model_path()
    if path is None:
        raise StudioError(f"run {folder.path.name} has no trained model yet "
                          "(no model.keras and no checkpoint)")
    model = load_model_file(path)
    rows = []

    def caption(name, image) -> None:
        out = caption_decode.caption_images(model, [image], beam=beam)
        rows.append({"file": name, "caption": out.captions[0]})
        if not args.json:
            print(f"{Path(name).name}  {out.captions[0] or '(no words: <end> came first)'}")

    ok = for_each_image(args.images, caption)
    if args.json:
        print(json.dumps(rows))
    return 0 if ok else 2
