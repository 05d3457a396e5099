"""``cnnstudio detect IMAGE... --haar CASCADE``: find objects in photos, headless.

    cnnstudio detect astronaut.png --haar frontalface [--scale 1.1] [--neighbors 5]
                                   [--min-size 30] [--max-side 0] [--search octaves]
                                   [--json]
    cnnstudio detect photo.jpg --coco-pretrained | --run RUN_DIR [--min-score 0.5] [--json]
    cnnstudio detect photo.jpg --cnn faces [--min-face 20] [--json]   # MTCNN: boxes, landmarks

``--json`` prints one object, ``{"detections": [{"box": [x, y, w, h], "label": …,
"score": …}], "ms": …}``; for several images ``{"images": [{"file": …, "detections": …,
"ms": …}, …]}``. ``ms`` is the detector's own time on the decoded image (not the file
read, not the process start).

Boxes are in the file's pixels. An image too large to decode whole is read downscaled
(``imaging.read_image_noted``) and a Haar search may shrink it further (``--max-side``,
automatic by default): then a note on stderr (and ``"note"`` in its JSON object) says
what size was searched and the smallest object it can still find.

Each detector is a *source*: a function ``source(args)`` that checks its options and
returns ``detect(image) -> {"detections": [...], "ms": float}``, registered in
``SOURCES`` under the name of the option that picks it. Exactly one source is used.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.detection import detect_sources

Detector = Callable[..., dict]      # detect(image, smaller=None) -> {"detections", "ms"}


HELP = ("find objects in images: Haar cascades (faces, eyes, …), a pretrained CNN face "
        "detector (MTCNN), Mask R-CNN (a trained run, or pretrained on COCO)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", help="image files")
    parser.add_argument("--haar", metavar="CASCADE",
                        help="a Haar cascade OpenCV ships: frontalface, eye, smile, fullbody, "
                             "catface, plate, … (or a cascade .xml file)")
    parser.add_argument("--scale", type=float, default=1.1,
                        help="Haar: pyramid step, the window grows by this factor (1.1)")
    parser.add_argument("--neighbors", type=int, default=5,
                        help="Haar: overlapping raw windows a box needs to be kept (5)")
    parser.add_argument("--min-size", type=int, default=30,
                        help="Haar: smallest object searched, in pixels (30)")
    parser.add_argument("--max-side", type=int, default=0,
                        help="Haar: search a copy at most this many pixels on its long side "
                             "(faster; small objects are missed). 0: automatic (default): "
                             "the image itself, or a 4096²-pixel copy of a larger one")
    parser.add_argument("--search", choices=("octaves", "full"), default="octaves",
                        help="Haar: 'octaves' (default) searches each halved image for "
                             "windows 1-2x the base size, about twice as fast; 'full' is "
                             "OpenCV's own single scan")
    parser.add_argument("--cnn", choices=("faces",),
                        help="a pretrained CNN detector: 'faces' is MTCNN (three small CNNs; "
                             "boxes and five landmarks; weights ship in the mtcnn package)")
    parser.add_argument("--min-face", type=int, default=20,
                        help="--cnn faces: smallest face searched, in pixels (20)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    detect_sources.add_arguments(parser)      # --coco-pretrained, --run RUN_DIR, --min-score


def haar_source(args) -> Detector:
    """Viola-Jones with OpenCV's CascadeClassifier (the cascade is loaded once)."""
    from cnnstudio.core.families.detection.haar_detect import (
        check_options,
        classifier,
        detect_haar,
    )

    check_options(args.scale, args.neighbors, args.min_size)
    classifier(args.haar)                  # an unknown cascade fails before any image

    def detect(image, smaller=None) -> dict:
        # --min-size is in the file's pixels; an image read downscaled is searched in its own
        scale = max(smaller.scale) if smaller is not None else 1.0
        result = detect_haar(image, args.haar, args.scale, args.neighbors,
                             round(args.min_size / scale), max_side=args.max_side,
                             search=args.search)
        if smaller is not None:
            result = result.scaled_to(smaller.original)
        found = {"detections": result.detections(), "ms": round(result.ms, 3)}
        if result.note:
            found["note"] = result.note
        return found

    return detect


def cnn_source(args) -> Detector:
    """MTCNN (cnn_faces): boxes and landmarks brought to the file's pixels."""
    from cnnstudio.core.families.detection import cnn_faces

    min_face = cnn_faces.check_min_face(args.min_face)
    cnn_faces.detector()                   # load (and warm) before the first image's time

    def detect(image, smaller=None) -> dict:
        # --min-face is in the file's pixels; an image read downscaled is searched in its own
        scale = max(smaller.scale) if smaller is not None else 1.0
        found = cnn_faces.detect_faces(image, max(cnn_faces.MIN_FACE_RANGE[0],
                                                  round(min_face / scale)))
        if smaller is not None:
            found = cnn_faces.scaled(found, *smaller.scale)
        out = {"detections": cnn_faces.records(found), "ms": round(found["ms"], 3)}
        if smaller is not None:
            out["note"] = smaller.detail
        return out

    return detect


def in_file_pixels(source: Callable) -> Detector:
    """A source that knows only the decoded image: its boxes brought to the file's pixels
    when the image was read downscaled, with the read's note."""
    def detect(image, smaller=None) -> dict:
        found = source(image)
        if smaller is None:
            return found
        sy, sx = smaller.scale
        for d in found["detections"]:
            x, y, w, h = d["box"]
            d["box"] = [round(x * sx, 1), round(y * sy, 1), round(w * sx, 1), round(h * sy, 1)]
        return {**found, "note": smaller.detail}

    return detect


# option name → source. Other detectors (a trained run, the pretrained COCO model) add
# their options in add_arguments and their source here.
SOURCES: dict[str, Callable[[object], Detector]] = {
    "haar": haar_source, "coco_pretrained": detect_sources.coco_source,
    "run": detect_sources.run_source, "cnn": cnn_source}
# Sources whose detect(image, smaller) takes the read's Downscaled (the others are wrapped).
SEE_DOWNSCALING = {"haar", "cnn"}


def pick_source(args) -> Detector:
    chosen = [name for name in SOURCES if getattr(args, name, None)]
    options = ", ".join("--" + name.replace("_", "-") for name in SOURCES)
    if not chosen:
        raise StudioError(f"say which detector to use: {options}")
    if len(chosen) > 1:
        raise StudioError(f"use one detector at a time, not {' and '.join(chosen)}")
    detect = SOURCES[chosen[0]](args)
    return detect if chosen[0] in SEE_DOWNSCALING else in_file_pixels(detect)


def run(args) -> int:
    from cnnstudio.core.imaging import for_each_image

    detect = pick_source(args)
    results = []

    def find(path, image, smaller) -> None:
        found = detect(image, smaller)
        if found.get("note"):
            print(f"cnnstudio: note: {Path(path).name}: {found['note']}", file=sys.stderr)
        results.append({"file": path, **found})
        if not args.json:
            _print_text(path, found, "no face found" if getattr(args, "cnn", None)
                        else "nothing found")

    ok = for_each_image(args.images, find, downscaled=True)
    if args.json and len(args.images) == 1:
        if results:             # one image: its object alone (an unreadable one: stderr only)
            print(json.dumps({k: v for k, v in results[0].items() if k != "file"}))
    elif args.json:
        print(json.dumps({"images": results}))
    return 0 if ok else 2


def _print_text(path: str, found: dict, nothing: str = "nothing found") -> None:
    dets = found["detections"]
    labels = sorted({d["label"] for d in dets})
    what = ", ".join(f"{sum(d['label'] == label for d in dets)} × {label}" for label in labels)
    print(f"{Path(path).name}: {what or nothing} ({found['ms']:.1f} ms)")
    for d in dets:
        x, y, w, h = d["box"]
        extra = f", {d['neighbors']} votes" if d.get("neighbors") else ""
        print(f"  {d['label']} at x={x} y={y} w={w} h={h} (score {d['score']:.2f}{extra})")
        if d.get("landmarks"):
            print("    " + ", ".join(f"{name.replace('_', ' ')} ({x:.0f}, {y:.0f})"
                                     for name, (x, y) in d["landmarks"].items()))


def refuse_predict(args) -> int:
    """``cnnstudio predict`` on a detection run: say which command finds its objects."""
    raise StudioError(f"{args.run_dir} is a detection run: 'predict' ranks a classifier's "
                      f"classes; find its objects with 'cnnstudio detect IMAGE --run "
                      f"{args.run_dir}'")
