"""A pretrained CNN face detector beside Viola-Jones: MTCNN (Zhang et al., 2016), offline.

    found = detect_faces(rgb_uint8, min_face=20)
    found["boxes"]       # (n, 4) float32 [y1, x1, y2, x2] in the image's pixels, best first
    found["scores"]      # (n,) float32, the last network's face probability
    found["landmarks"]   # (n, 5, 2) float32 (x, y): LANDMARKS, in that order
    found["ms"]          # the detector's own time on this image (warm), milliseconds

MTCNN is a cascade too, but of three small CNNs instead of boosted Haar features: P-Net
(12×12, fully convolutional) slides over an image pyramid and proposes boxes, R-Net (24×24)
rejects most proposals and refines the rest, O-Net (48×48) decides, refines the box once
more and places five landmarks; non-maximum suppression between the stages. The ``mtcnn``
wheel (1.0, MIT) ships the three networks' weights inside the package, so nothing is
downloaded; its networks are ``tf.keras`` models and run under Keras 3.

The detector is built once per process (about 3 s: TensorFlow, three models, one warm-up
image), and one image is detected at a time (a lock), whichever thread asks.
"""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np

from cnnstudio.core.errors import DataError, ModelError

LANDMARKS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
MIN_FACE_RANGE = (12, 2000)     # P-Net's window is 12 px: a smaller face needs upsampling
NAME = "MTCNN (P-Net → R-Net → O-Net)"
MTCNN_MIN_FACE = 20             # the only min_face_size mtcnn 1.0.0 sizes its pyramid for
# O-Net's face probability a face must reach. mtcnn's own last threshold (0.7) lets through
# faces-in-texture (wheels, coins: all under 0.91 in benchmarks/faces.py); 0.95 is the cut
# MTCNN's users commonly apply, and keeps 93 % of the benchmark's faces with no false box.
MIN_SCORE = 0.95

_lock = threading.Lock()
_detector = None


def detector():
    """The MTCNN detector, built and warmed on first use."""
    global _detector
    with _lock:
        if _detector is None:
            try:
                from mtcnn import MTCNN
            except ImportError as exc:
                raise ModelError("the CNN face detector needs the 'mtcnn' package "
                                 "(pip install 'mtcnn>=1.0,<2'): " + str(exc)) from exc
            found = MTCNN(stages="face_and_landmarks_detection", device="CPU:0")
            # One face through all three networks: their first calls build and trace, so
            # every later image's time is the detector's own.
            found.detect_faces(_warmup_image(), output_type="numpy", box_format="xyxy")
            _detector = found
    return _detector


def loaded() -> bool:
    """Whether the detector is built (its first use takes seconds)."""
    return _detector is not None


def _warmup_image() -> np.ndarray:
    from skimage import data

    return cv2.resize(data.astronaut(), (160, 160), interpolation=cv2.INTER_AREA)


def as_rgb(image) -> np.ndarray:
    """uint8 (H, W, 3) from RGB, RGBA or grey uint8; anything else is a DataError."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise DataError(f"face detection needs a uint8 image, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise DataError(f"face detection needs an (H, W, 3) RGB image, got shape "
                        f"{tuple(image.shape)}")
    if min(image.shape[:2]) < MIN_FACE_RANGE[0]:
        raise DataError(f"the image is {image.shape[1]}×{image.shape[0]} px: face detection "
                        f"needs at least {MIN_FACE_RANGE[0]} px on each side")
    return np.ascontiguousarray(image[..., :3])


def check_min_face(min_face) -> int:
    lo, hi = MIN_FACE_RANGE
    if isinstance(min_face, bool) or not isinstance(min_face, int | np.integer) \
            or not lo <= min_face <= hi:
        raise DataError(f"--min-face must be an integer from {lo} to {hi} pixels (the "
                        f"smallest face searched), got {min_face!r}")
    return int(min_face)


def empty(ms: float = 0.0) -> dict:
    return {"boxes": np.zeros((0, 4), np.float32), "scores": np.zeros(0, np.float32),
            "landmarks": np.zeros((0, 5, 2), np.float32), "ms": ms}


def detect_faces(image, min_face: int = 20, min_score: float = MIN_SCORE) -> dict:
    """Faces in one uint8 image scoring at least ``min_score`` (see the module's docstring
    for what comes back)."""
    image = as_rgb(image)
    min_face = check_min_face(min_face)
    model = detector()
    h, w = image.shape[:2]
    if min(h, w) < min_face:
        return empty()                  # no face that large fits in the image
    with _lock:
        start = time.perf_counter()
        # mtcnn 1.0.0 sizes P-Net's pyramid right only for its default 20 px (another
        # min_face_size loses the largest faces, or fails the whole image on a level under
        # 12 px, which it reads as "no face"): the image is scaled so min_face becomes 20.
        k = MTCNN_MIN_FACE / min_face
        work = image if k == 1 else cv2.resize(
            image, (max(1, round(w * k)), max(1, round(h * k))),
            interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        rows = model.detect_faces(work, min_face_size=MTCNN_MIN_FACE, output_type="numpy",
                                  box_format="xyxy")
        ms = (time.perf_counter() - start) * 1000.0
    found = from_rows(rows, ms, min_score)
    return found if k == 1 else scaled(found, h / work.shape[0], w / work.shape[1])


def from_rows(rows, ms: float, min_score: float = 0.0) -> dict:
    """mtcnn's numpy rows [image, x1, y1, x2, y2, score, 5 × x, 5 × y] → our arrays."""
    rows = np.asarray(rows, np.float32).reshape(-1, 16)
    rows = rows[rows[:, 5] >= min_score]
    if not len(rows):
        return empty(ms)
    rows = rows[np.argsort(-rows[:, 5], kind="stable")]
    return {"boxes": rows[:, [2, 1, 4, 3]].copy(), "scores": rows[:, 5].copy(),
            "landmarks": np.stack([rows[:, 6:11], rows[:, 11:16]], axis=-1), "ms": ms}


def records(found: dict) -> list[dict]:
    """The CLI's JSON records: box [x, y, w, h], label "face", score, named landmarks."""
    out = []
    for (y1, x1, y2, x2), score, points in zip(found["boxes"], found["scores"],
                                               found["landmarks"], strict=True):
        out.append({"box": [round(float(x1), 1), round(float(y1), 1),
                            round(float(x2 - x1), 1), round(float(y2 - y1), 1)],
                    "label": "face", "score": round(float(score), 4),
                    "landmarks": {name: [round(float(x), 1), round(float(y), 1)]
                                  for name, (x, y) in zip(LANDMARKS, points, strict=True)}})
    return out


def scaled(found: dict, sy: float, sx: float) -> dict:
    """The detections in the pixels of the same image sy, sx times larger."""
    return {**found, "boxes": found["boxes"] * np.array([sy, sx, sy, sx], np.float32),
            "landmarks": found["landmarks"] * np.array([sx, sy], np.float32)}


def as_instances(found: dict, image_size: tuple[int, int]):
    """The common instance format (class "face"), for views that draw any detector."""
    from cnnstudio.core.families.detection.instances import Instances

    n = len(found["boxes"])
    return Instances(found["boxes"], np.ones(n, np.int32), found["scores"],
                     ["background", "face"], tuple(image_size),
                     extra={"ms": round(found["ms"], 1), "model": NAME})


def draw(image, found: dict, colour=(64, 200, 255)) -> np.ndarray:
    """The image with each face's box and its five landmarks drawn."""
    out = as_rgb(image).copy()
    thick = max(1, round(max(out.shape[:2]) / 250))
    for (y1, x1, y2, x2), points in zip(found["boxes"], found["landmarks"], strict=True):
        cv2.rectangle(out, (round(float(x1)), round(float(y1))),
                      (round(float(x2)) - 1, round(float(y2)) - 1), colour, thick)
        for x, y in points:
            cv2.circle(out, (round(float(x)), round(float(y))), thick + 1, (255, 220, 0), -1)
    return out
