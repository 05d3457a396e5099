"""A RAM run looking at one picture: the class it answers and where it looked.

    model, info = load_run(run_dir)
    result = look_at(model, image, info)        # any size: placed as training placed digits
    result["class"], result["fixations"]         # "7", [(30, 30), (18, 41), …]

Used by ``cnnstudio predict RUN_DIR IMAGE`` and the prediction dock's glimpse view.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.attention import ram_probes
from cnnstudio.core.families.attention.canvases import place_on_canvas


def prepare(image, info: dict, shape) -> tuple[np.ndarray, list[str]]:
    """The picture as the model's input (uint8 H×W×C) and the steps taken to get there."""
    from cnnstudio.core.imaging import fit_to_shape

    side = int(shape[0])
    scene = info.get("scene")
    if scene:
        canvas, steps = place_on_canvas(image, side, int(scene.get("digit_side", 28)),
                                        scene.get("digit_stats"))
        return fit_to_shape(canvas, tuple(shape)), steps
    return fit_to_shape(np.asarray(image), tuple(shape)), []


def look_at(model, image, info: dict, mode: str = "mean", seed: int | None = 0) -> dict:
    """Trace one picture: class, probability, fixations (pixels) and the whole trace."""
    shape = tuple(int(s) for s in model.image_shape)
    x, steps = prepare(image, info, shape)
    trace = ram_probes.trace(model, x[None], mode, seed=seed)
    probs = trace["probabilities"][0]
    names = list(info.get("class_names") or [str(i) for i in range(probs.shape[-1])])
    best = int(np.argmax(probs[-1]))
    return {"class": names[best] if best < len(names) else str(best),
            "probability": float(probs[-1, best]),
            "fixations": ram_probes.fixations(trace["locations"][0], shape),
            "adapted": steps, "image": x,
            "locations": trace["locations"][0], "glimpses": trace["glimpses"][0],
            "probabilities": probs, "class_names": names}


def load_run(run_dir):
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.training.rundir import RunDir

    folder = RunDir.open(run_dir)
    path = folder.model_path()
    if path is None:
        raise StudioError(f"run {folder.path.name} has no trained model yet (no model.keras "
                          "and no checkpoint)")
    model = load_model_file(path)
    if not hasattr(model, "trace"):
        raise StudioError(f"run {folder.path.name} is not a Recurrent Attention Model run")
    return model, folder.read_json("dataset.json", {}) or {}


def is_ram_run(run_dir) -> bool:
    from cnnstudio.core.families.profile import arch_profile
    from cnnstudio.core.training.rundir import RunDir

    try:
        return arch_profile(RunDir.open(run_dir).config().model.id).prediction == "glimpse"
    except StudioError:
        return False


def predict_cli(args) -> int:
    """``cnnstudio predict`` on a RAM run: per image the class and the fixations."""
    import json
    from pathlib import Path

    from cnnstudio.core.imaging import for_each_image

    model, info = load_run(args.run_dir)
    shape = tuple(int(s) for s in model.image_shape)
    rows = []

    def look(path, image) -> None:
        result = look_at(model, image, info)
        rows.append({"file": path, "class": result["class"],
                     "probability": result["probability"],
                     "fixations": [list(f) for f in result["fixations"]],
                     "adapted": result["adapted"]})
        if not args.json:
            print(f"{Path(path).name}  {result['class']} {result['probability']:.4f}  "
                  f"fixations (row, column) on the {shape[0]}×{shape[1]} canvas: "
                  f"{ram_probes.fixations_text(result['locations'], shape)}")

    ok = for_each_image(args.images, look)
    if args.json:
        print(json.dumps(rows))
    return 0 if ok else 2
