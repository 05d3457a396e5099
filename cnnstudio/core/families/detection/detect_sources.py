"""``cnnstudio detect IMAGE... --coco-pretrained | --run RUN_DIR``: the Mask R-CNN sources of
the detect command (the Haar source lives with the cascades).

Each source turns image files into ``Instances`` plus the model's time per image; the
command prints one line per detection, or with ``--json`` one object

    {"detections": [{"box": [x, y, w, h], "label": ..., "score": ...}], "ms": ...}

(for several images a list under ``"images"``, each with ``image``, ``detections``, ``ms``),
and with ``--out DIR`` writes each image with its instances drawn (``NAME-detections.png``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.detection.instances import Instances, overlay
from cnnstudio.core.imaging import read_image

DEFAULT_MIN_SCORE = 0.5


@dataclass
class Found:
    path: str
    image: np.ndarray          # the image as detected (the COCO model's may be shrunk)
    instances: Instances
    ms: float


def coco_pretrained(paths: list[str], min_score: float = DEFAULT_MIN_SCORE,
                    progress=None) -> list[Found]:
    """The pretrained COCO Mask R-CNN on each image (downloads it once, with progress)."""
    from cnnstudio.core.families.detection import coco_pretrained as zoo

    folder = zoo.fetch(progress)
    out = []
    for path in paths:
        photo, instances = zoo.detect(read_image(path), min_score=min_score, saved_model=folder)
        out.append(Found(path, photo, instances, instances.extra["ms"]))
    return out


def trained_run(run_dir: str | Path, paths: list[str],
                min_score: float = DEFAULT_MIN_SCORE) -> list[Found]:
    """A trained Mask R-CNN run's model (``model.keras`` or its last checkpoint)."""
    from cnnstudio.core.families.detection import maskrcnn_probes
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.training.rundir import RunDir

    folder = RunDir.open(run_dir)
    model_path = folder.model_path()
    if model_path is None:
        raise StudioError(f"run {Path(run_dir).name} has no saved model yet; train it first")
    model = load_model_file(model_path)
    out = []
    for path in paths:
        image = read_image(path)
        t0 = time.perf_counter()
        found = maskrcnn_probes.pipeline(model, image, top_n=1)["detections"]
        ms = (time.perf_counter() - t0) * 1000
        if not isinstance(found, Instances):
            found = Instances.from_dict(found, image.shape[:2])
        out.append(Found(path, image, found.above(min_score), ms))
    return out


def as_json(found: list[Found]) -> dict:
    one = [{"image": f.path, "detections": f.instances.records(), "ms": round(f.ms, 1)}
           for f in found]
    if len(one) == 1:
        return {"detections": one[0]["detections"], "ms": one[0]["ms"]}
    return {"images": one}


def as_lines(found: list[Found]) -> list[str]:
    lines = []
    for f in found:
        lines.append(f"{f.path}: {len(f.instances)} found in {f.ms:.0f} ms")
        for r in f.instances.records():
            x, y, w, h = r["box"]
            lines.append(f"  {r['label']:<16} {r['score']:.3f}  box x={x:.0f} y={y:.0f} "
                         f"w={w:.0f} h={h:.0f}")
    return lines


def save_overlays(found: list[Found], folder: str | Path) -> list[Path]:
    """Each image with its masks and boxes drawn, as ``NAME-detections.png`` in ``folder``."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudioError(f"cannot create {folder}: {exc.strerror or exc}") from None
    written = []
    for f in found:
        target = folder / f"{Path(f.path).stem}-detections.png"
        picture = overlay(f.image, f.instances, opacity=0.5)
        if not cv2.imwrite(str(target), picture[..., ::-1]):
            raise StudioError(f"cannot write {target}")
        written.append(target)
    return written
