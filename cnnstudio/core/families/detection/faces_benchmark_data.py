"""Faces at known places: bundled face crops pasted into scikit-image's sample photos, so a
face detector's recall and false boxes can be counted offline (benchmarks/faces.py, tests).

    scenes = face_scenes(count=40, size=320, seed=0)
    scenes[0].image     # uint8 (size, size, 3)
    scenes[0].boxes     # float32 (n, 4) [y1, x1, y2, x2]: where each face was pasted
    score_faces([s.boxes for s in scenes], [found boxes per scene])
        # -> {"recall", "false_per_image", "found", "faces", "false"}

The faces: scikit-image's astronaut (colour) and the 100 faces of ``data.lfw_subset()``
(25×25 grey crops from Labeled Faces in the Wild, brow to chin), scaled up to 40–112 px.
The photos: the ones without a face (coffee, Chelsea the cat, the rocket, the motorcycle,
bricks, grass, gravel, coins, a page of text, the Hubble deep field); a cat's face and a
page of text are where a cascade's false boxes come from. Each face is pasted with a
feathered edge, so the square's border is not an edge a detector could lock onto.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cnnstudio.core.errors import DataError

BACKGROUNDS = ("coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png", "brick.png",
               "grass.png", "gravel.png", "coins.png", "page.png", "hubble_deep_field.jpg")
ASTRONAUT_FACE = (56, 166, 176, 286)     # y1, x1, y2, x2 of her face, brow to chin, in the photo
MATCH_IOU = 0.4     # detectors frame a face differently (Haar: square; MTCNN: taller, narrower)


@dataclass
class Scene:
    image: np.ndarray          # uint8 (H, W, 3)
    boxes: np.ndarray          # float32 (n, 4) [y1, x1, y2, x2] of the pasted faces
    background: str


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


def _photo(name: str) -> np.ndarray:
    """A photo of scikit-image's data folder (shipped in the wheel), RGB uint8."""
    from pathlib import Path

    import skimage

    from cnnstudio.core.imaging import read_image

    return _rgb(read_image(Path(skimage.__file__).parent / "data" / name))


def face_crops() -> list[np.ndarray]:
    """The astronaut's face first, then the 100 LFW faces (grey as RGB), uint8 squares."""
    from skimage import data

    y1, x1, y2, x2 = ASTRONAUT_FACE
    faces = [_rgb(data.astronaut()[y1:y2, x1:x2])]
    try:
        lfw = data.lfw_subset()[:100]          # the first 100 are faces, the rest are not
    except Exception as exc:                  # noqa: BLE001 - an install without the file
        raise DataError(f"scikit-image's lfw_subset faces are missing ({exc})") from exc
    faces += [_rgb(np.round(f * 255).astype(np.uint8)) for f in lfw]
    return faces


def _background(photo: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A size×size view of the photo: scaled to cover 1–1.6 times the square, a random
    part of it, mirrored half the time (each scene a different stretch of clutter)."""
    h, w = photo.shape[:2]
    k = size / min(h, w) * float(rng.uniform(1.0, 1.6))
    resized = cv2.resize(photo, (max(size, round(w * k)), max(size, round(h * k))),
                         interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    top = int(rng.integers(0, resized.shape[0] - size + 1))
    left = int(rng.integers(0, resized.shape[1] - size + 1))
    view = resized[top:top + size, left:left + size]
    return np.ascontiguousarray(view[:, ::-1] if rng.random() < 0.5 else view)


def paste(image: np.ndarray, face: np.ndarray, y: int, x: int, side: int) -> None:
    """The face scaled to side×side at (y, x), blended in over its outer eighth."""
    scaled = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    ramp = np.clip(np.minimum(np.arange(side), np.arange(side)[::-1]) / max(1, side / 8), 0, 1)
    alpha = np.minimum.outer(ramp, ramp)[..., None]
    region = image[y:y + side, x:x + side].astype(np.float32)
    image[y:y + side, x:x + side] = np.round(alpha * scaled + (1 - alpha) * region)


def face_scenes(count: int = 40, size: int = 320, seed: int = 0, faces_per_image=(1, 3),
                sides=(40, 112)) -> list[Scene]:
    """``count`` photos with 1–3 faces each at random, non-overlapping places (the same for
    a given seed)."""
    if not isinstance(count, int) or count < 1:
        raise DataError(f"face scenes: count must be a positive integer, got {count!r}")
    if not isinstance(size, int) or size < 2 * sides[1]:
        raise DataError(f"face scenes: size must be at least {2 * sides[1]} px, got {size!r}")
    rng = np.random.default_rng(seed)
    crops = face_crops()
    photos = {name: _photo(name) for name in BACKGROUNDS}
    scenes = []
    for i in range(count):
        name = BACKGROUNDS[i % len(BACKGROUNDS)]
        image = _background(photos[name], size, rng)
        boxes: list[list[float]] = []
        wanted = int(rng.integers(faces_per_image[0], faces_per_image[1] + 1))
        for _ in range(50 * wanted):              # places tried before settling for fewer
            if len(boxes) == wanted:
                break
            side = int(rng.integers(sides[0], sides[1] + 1))
            y, x = (int(v) for v in rng.integers(0, size - side + 1, 2))
            box = [y, x, y + side, x + side]
            if all(_apart(box, b) for b in boxes):
                # the astronaut in one face of five, else an LFW face
                crop = crops[0] if rng.random() < 0.2 else crops[int(rng.integers(1, len(crops)))]
                paste(image, crop, y, x, side)
                boxes.append(box)
        scenes.append(Scene(image, np.asarray(boxes, np.float32).reshape(-1, 4),
                            name.split(".")[0]))
    return scenes


def _apart(a, b, gap: int = 8) -> bool:
    return a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1]


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every [y1, x1, y2, x2] box of ``a`` (N) with every one of ``b`` (M)."""
    a, b = np.asarray(a, np.float32).reshape(-1, 4), np.asarray(b, np.float32).reshape(-1, 4)
    y1 = np.maximum(a[:, None, 0], b[None, :, 0])
    x1 = np.maximum(a[:, None, 1], b[None, :, 1])
    y2 = np.minimum(a[:, None, 2], b[None, :, 2])
    x2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(y2 - y1, 0, None) * np.clip(x2 - x1, 0, None)
    area = lambda r: (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])    # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def score_faces(truth: list[np.ndarray], found: list[np.ndarray],
                iou: float = MATCH_IOU) -> dict:
    """Recall and false boxes per image: each found box (in the order given, best first)
    takes the unmatched true face it overlaps most if IoU ≥ ``iou``; the rest are false."""
    if len(truth) != len(found):
        raise DataError(f"score_faces: {len(truth)} images of faces but {len(found)} of "
                        "detections")
    hits = false = faces = 0
    for t, f in zip(truth, found, strict=True):
        overlap = iou_matrix(f, t)
        taken = np.zeros(overlap.shape[1], bool)
        for row in overlap:
            row = np.where(taken, -1.0, row)
            j = int(np.argmax(row)) if row.size else -1
            if j >= 0 and row[j] >= iou:
                taken[j] = True
                hits += 1
            else:
                false += 1
        faces += overlap.shape[1]
    return {"recall": hits / faces if faces else 0.0,
            "false_per_image": false / len(truth) if truth else 0.0,
            "found": hits, "faces": faces, "false": false}
