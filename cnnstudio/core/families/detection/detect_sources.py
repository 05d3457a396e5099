"""``cnnstudio detect IMAGE... --coco-pretrained | --run RUN_DIR``: the Mask R-CNN sources of
the detect command (``detect_cli.py``; the Haar source lives with the cascades).

A source checks its options, loads its model once and returns ``detect(image) ->
{"detections": [{"box": [x, y, w, h], "label": …, "score": …}], "ms": …}`` in the
pixels of the image given; ``ms`` is the model's own time on that image (warm for a run's
model, after one untimed tracing pass; the COCO model's first image also pays its tracing).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.detection.instances import Instances

DEFAULT_MIN_SCORE = 0.5
RUN_TASKS = ("detection", "rcnn", "fast-rcnn")     # the trained detectors --run takes


def add_arguments(parser) -> None:
    parser.add_argument("--coco-pretrained", action="store_true",
                        help="the pretrained COCO Mask R-CNN (TF2 Detection Zoo; downloaded "
                             "once, about 250 MB): 80 everyday classes in real photos")
    parser.add_argument("--run", metavar="RUN_DIR",
                        help="a trained R-CNN, Fast R-CNN or Mask R-CNN run (e.g. a chapter 7 "
                             "shapes preset's)")
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE,
                        help="Mask R-CNN: keep detections scoring at least this (0.5)")


def _min_score(args) -> float:
    score = getattr(args, "min_score", DEFAULT_MIN_SCORE)
    if not 0 <= score <= 1:
        raise StudioError(f"--min-score must be between 0 and 1, got {score}")
    return float(score)


def _download_printer():
    """Download progress on stderr, one line per 10 %, so --json's stdout stays one object."""
    shown = {"step": -1}

    def progress(event) -> None:
        if event.total:
            step = int(10 * event.done / event.total)
            if step != shown["step"]:
                shown["step"] = step
                print(f"{event.message}: {event.done:.0f} of {event.total:.0f}",
                      file=sys.stderr)
    return progress


def coco_source(args):
    """The pretrained COCO Mask R-CNN; boxes are given in the original image's pixels
    (the model sees photos shrunk to 1024 px at most)."""
    from cnnstudio.core.families.detection import coco_pretrained as zoo

    min_score = _min_score(args)
    folder = zoo.fetch(_download_printer())

    def detect(image) -> dict:
        photo, found = zoo.detect(image, min_score=min_score, saved_model=folder)
        (h, w), (ph, pw) = np.asarray(image).shape[:2], photo.shape[:2]
        scale = np.array([h / ph, w / pw, h / ph, w / pw], np.float32)
        original = Instances(found.boxes * scale, found.class_ids, found.scores,
                             found.class_names, (h, w))
        return {"detections": original.records(), "ms": round(found.extra["ms"], 3)}

    return detect


def run_source(args):
    """A trained R-CNN, Fast R-CNN or Mask R-CNN run's model (``model.keras`` or its last
    checkpoint); ``maskrcnn_probes.detect`` asks each in its own way."""
    from cnnstudio.core.families.detection import maskrcnn_probes
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.registry import ARCHITECTURES
    from cnnstudio.core.training.rundir import RunDir

    min_score = _min_score(args)
    folder = RunDir.open(args.run)
    model_id = folder.config().model.id
    if ARCHITECTURES.find(model_id) is None \
            or ARCHITECTURES.get(model_id).task not in RUN_TASKS:
        raise StudioError(f"run {folder.path.name} is a {model_id} run: --run takes an "
                          "R-CNN, Fast R-CNN or Mask R-CNN run (models rcnn, fast-rcnn, "
                          "maskrcnn); for a photo without one, use --coco-pretrained or "
                          "--haar")
    model_path = folder.model_path()
    if model_path is None:
        raise StudioError(f"run {Path(args.run).name} has no saved model yet; train it first")
    model = load_model_file(model_path)
    traced = []

    def detect(image) -> dict:
        if not traced:              # the first call traces the graph: ms is a warm call's
            maskrcnn_probes.detect(model, image)
            traced.append(True)
        t0 = time.perf_counter()
        found = maskrcnn_probes.detect(model, image)
        ms = (time.perf_counter() - t0) * 1000
        if not isinstance(found, Instances):
            found = Instances.from_dict(found, np.asarray(image).shape[:2])
        return {"detections": found.above(min_score).records(), "ms": round(ms, 3)}

    return detect
