"""Faces found and false boxes: the Haar cascade (Viola–Jones) against MTCNN (a cascade of
three CNNs) on photos with faces pasted at known places.

    python benchmarks/faces.py [--images 200] [--size 480] [--seed 0] [--no-save]

The photos are ``faces_benchmark_data.face_scenes``: scikit-image's sample photos without a
face, each a random view of one, with 1–3 faces (the astronaut's, LFW's) pasted at random
places and sizes (32–112 px). Both detectors run with the studio's defaults: the cascade
as ``cnnstudio detect --haar frontalface`` (scale 1.1, 5 neighbours, min size 30, octave
search), MTCNN as ``cnnstudio detect --cnn faces`` (min face 20). A found box is a face
found when it overlaps an unclaimed pasted face with IoU ≥ 0.4, else a false box. ``ms``
is the median of each detector's own time per photo (warm, CPU; the CNN also warmed);
``load_average`` is the machine's 1-minute load when it ended (other work on its cores).

The figures (and the machine) are saved to cnnstudio/resources/benchmarks/faces.json,
which the Haar tab's "Faces: Haar vs CNN" page shows (``--no-save``: print only).
Last line, one JSON object: haar_recall, cnn_recall, haar_false_per_image,
cnn_false_per_image, haar_ms, cnn_ms, images, faces. Goals: cnn_recall ≥ haar_recall and
cnn_false_per_image < haar_false_per_image.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
from pathlib import Path

from _common import emit, goal, machine

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")      # the figures are CPU figures
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnnstudio.core.families.detection import cnn_faces  # noqa: E402
from cnnstudio.core.families.detection import faces_benchmark_data as data  # noqa: E402
from cnnstudio.core.families.detection.haar_detect import detect_haar  # noqa: E402

SAVED = (Path(__file__).resolve().parents[1] / "cnnstudio" / "resources" / "benchmarks"
         / "faces.json")
SIDES = (32, 112)


def measure(images: int, size: int, seed: int) -> dict:
    scenes = data.face_scenes(images, size, seed, sides=SIDES)
    cnn_faces.detector()                               # built and warmed before any timing
    detect_haar(scenes[0].image, "frontalface")        # the cascade loaded and warmed
    found = {"haar": [], "cnn": []}
    ms = {"haar": [], "cnn": []}
    for i, scene in enumerate(scenes):
        haar = detect_haar(scene.image, "frontalface")
        cnn = cnn_faces.detect_faces(scene.image)
        found["haar"].append(haar.instance_boxes())
        found["cnn"].append(cnn["boxes"])
        ms["haar"].append(haar.ms)
        ms["cnn"].append(cnn["ms"])
        print(f"{i + 1:3d} {scene.background:18s} faces {len(scene.boxes)}  haar "
              f"{len(haar.boxes)} ({haar.ms:5.1f} ms)  cnn {len(cnn['boxes'])} "
              f"({cnn['ms']:5.1f} ms)", flush=True)
    truth = [s.boxes for s in scenes]
    figures = {}
    for key in ("haar", "cnn"):
        score = data.score_faces(truth, found[key])
        figures[f"{key}_recall"] = round(score["recall"], 4)
        figures[f"{key}_false_per_image"] = round(score["false_per_image"], 4)
        figures[f"{key}_ms"] = round(statistics.median(ms[key]), 1)
        figures[f"{key}_false"] = score["false"]
        figures[f"{key}_ms_spread"] = [round(min(ms[key]), 1), round(max(ms[key]), 1)]
    figures.update(images=images, faces=sum(len(t) for t in truth), size=size, seed=seed,
                   face_sides=f"{SIDES[0]}–{SIDES[1]}", match_iou=data.MATCH_IOU,
                   load_average=round(os.getloadavg()[0], 2))   # others' work on the cores
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200, help="photos (200)")
    parser.add_argument("--size", type=int, default=480, help="photo side, px (480)")
    parser.add_argument("--seed", type=int, default=0, help="which photos (0)")
    parser.add_argument("--no-save", action="store_true",
                        help="do not write cnnstudio/resources/benchmarks/faces.json")
    args = parser.parse_args()
    figures = measure(args.images, args.size, args.seed)
    for key in ("haar", "cnn"):
        print(f"{key}: recall {figures[f'{key}_recall']:.3f}, false boxes per photo "
              f"{figures[f'{key}_false_per_image']:.3f}, {figures[f'{key}_ms']:.1f} ms per "
              "photo", flush=True)
    goal("cnn_recall ≥ haar_recall", figures["cnn_recall"], ">=", figures["haar_recall"])
    goal("cnn_false_per_image < haar_false_per_image", figures["cnn_false_per_image"], "<",
         figures["haar_false_per_image"])
    if not args.no_save:
        saved = {**figures, "measured": datetime.date.today().isoformat(),
                 "machine": machine()}
        SAVED.parent.mkdir(parents=True, exist_ok=True)
        SAVED.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
        print(f"saved {SAVED}", flush=True)
    emit(__file__, figures)


if __name__ == "__main__":
    main()
