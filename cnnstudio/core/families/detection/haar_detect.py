"""Viola-Jones detection with OpenCV's ``CascadeClassifier``: boxes, their votes, the time.

    result = detect_haar(rgb_uint8, "frontalface", scale_factor=1.1, min_neighbors=5,
                         min_size=30)
    result.boxes        # (N, 4) int [x, y, w, h] in the image's pixels
    result.neighbors    # (N,) raw windows merged into each box (OpenCV's votes)
    result.ms           # the detection's wall time (grey conversion + cascade), ms

``detectMultiScale`` slides the cascade's base window over an image pyramid; every
window that passes all stages is a raw candidate, and candidates that overlap are
grouped: a group with fewer than ``min_neighbors`` members is dropped (0 keeps every raw
window, ungrouped). The cascade has no probability, so the common instance format gets
score 1.0; the votes say how sure it is.

Two ways to search (``search=``):

- ``"octaves"`` (default): one OpenCV call per octave of an image pyramid halved each
  time, each call limited to windows 1× to 2× the cascade's base window, then one grouping
  of all raw windows. OpenCV steps its window by 2 pixels of the scaled image below 2× the
  base window and by 1 pixel from there on, so its own scan spends most of its time on
  large objects at a stride far finer than their size; per octave the stride stays at about
  8 % of the window everywhere. Above the first octave that is 4× fewer windows than
  OpenCV tries, so a large object gathers fewer votes (her face: 12 against 40), which
  ``min_neighbors`` then weighs: fewer false alarms, and a borderline large object can be
  missed where the full scan keeps it. On scikit-image's astronaut (512², 2 cores) the
  search takes about half the time and finds the same face.
- ``"full"``: OpenCV's own single ``detectMultiScale`` call (the scan the Haar tab's stage
  counts and pyramid describe).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.detection.haar_cascades import cascade_label, cascade_path

_local = threading.local()      # a CascadeClassifier is not safe to share between threads
# max_side=0 (automatic): an image of more pixels than this is searched as a copy of this
# many (4096 × 4096). OpenCV's search holds up to ~40 bytes per pixel searched (every
# scale's resized image and integral images at once, when windows from the base size are
# searched): ~650 MB here, where a 16,000² photo asked for over 5 GB.
AUTO_MAX_PIXELS = 1 << 24


@dataclass
class HaarResult:
    boxes: np.ndarray            # (N, 4) int32 [x, y, w, h]
    neighbors: np.ndarray        # (N,) int32
    label: str
    cascade: str
    ms: float
    image_size: tuple[int, int]  # (h, w)
    searched_size: tuple[int, int] | None = None   # (h, w) of the copy searched; None: itself
    window: tuple[int, int] = (24, 24)             # the cascade's base window (w, h)
    min_size: int = 0                              # smallest object asked for, image pixels

    def smallest(self) -> tuple[int, int]:
        """(w, h) in the image's pixels of the smallest object the search could find: the
        base window at the searched copy's scale, or the asked minimum if larger."""
        (h, w), (sh, sw) = self.image_size, self.searched_size or self.image_size
        return (max(self.min_size, math.ceil(self.window[0] * w / sw)),
                max(self.min_size, math.ceil(self.window[1] * h / sh)))

    @property
    def note(self) -> str | None:
        """One line saying the search ran on a smaller copy, and what it cannot find."""
        if self.searched_size is None or self.searched_size == self.image_size:
            return None
        (h, w), (sh, sw) = self.image_size, self.searched_size
        mw, mh = self.smallest()
        size = f"{mw} px" if mw == mh else f"{mw}×{mh} px"
        article = "an" if self.label[:1] in "aeiou" else "a"
        return (f"searched a {sw}×{sh} copy of this {w}×{h} image: {article} {self.label} "
                f"smaller than about {size} is not found")

    def scaled_to(self, size: tuple[int, int]) -> HaarResult:
        """The result in the pixels of the same image at ``size`` (h, w): e.g. the file an
        image was read downscaled from."""
        (h, w), (nh, nw) = self.image_size, size
        sx, sy = nw / w, nh / h
        boxes = np.rint(self.boxes.reshape(-1, 4) * np.array([sx, sy, sx, sy]))
        return HaarResult(boxes.astype(np.int32).reshape(-1, 4), self.neighbors, self.label,
                          self.cascade, self.ms, (nh, nw), self.searched_size or (h, w),
                          self.window, round(self.min_size * max(sx, sy)))

    def detections(self) -> list[dict]:
        """The CLI's JSON records: box [x, y, w, h], label, score (1.0) and votes."""
        return [{"box": [int(v) for v in box], "label": self.label, "score": 1.0,
                 "neighbors": int(n)} for box, n in zip(self.boxes, self.neighbors, strict=True)]

    def instance_boxes(self) -> np.ndarray:
        """Boxes in the common instance format: float32 [y1, x1, y2, x2]."""
        b = self.boxes.astype(np.float32).reshape(-1, 4)
        return np.stack([b[:, 1], b[:, 0], b[:, 1] + b[:, 3], b[:, 0] + b[:, 2]], axis=1)


def classifier(name: str) -> cv2.CascadeClassifier:
    """A loaded cascade, cached per thread and per file."""
    path = str(cascade_path(name))
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    if path not in cache:
        try:
            found = cv2.CascadeClassifier(path)
        except (cv2.error, SystemError):      # not XML, or XML that is no cascade
            found = None
        if found is None or found.empty():
            raise StudioError(f"{Path(path).name} is not a Haar cascade OpenCV can read (a "
                              "cascade is an XML file such as haarcascade_frontalface_default"
                              ".xml; see 'cnnstudio detect --help' for the shipped names)")
        # One search on a blank image starts OpenCV's worker threads and fills the
        # cascade's buffers now, so the first photo's time is the detector's own.
        w, h = found.getOriginalWindowSize()
        found.detectMultiScale(np.zeros((2 * h, 2 * w), np.uint8))
        cache[path] = found
    return cache[path]


def check_options(scale_factor: float, min_neighbors: int, min_size: int) -> None:
    if not isinstance(scale_factor, int | float) or not 1.0 < scale_factor <= 4.0:
        raise StudioError(f"--scale must be above 1 and at most 4 (1.1 searches every 10 % "
                          f"of size), got {scale_factor}")
    if not isinstance(min_neighbors, int) or not 0 <= min_neighbors <= 100:
        raise StudioError(f"--neighbors must be an integer from 0 to 100, got {min_neighbors}")
    if not isinstance(min_size, int) or not 0 <= min_size <= 10000:
        raise StudioError(f"--min-size must be an integer from 0 to 10000 pixels, "
                          f"got {min_size}")


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 RGB (H, W, 3) or grey (H, W[, 1]) → contiguous grey (H, W)."""
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(image.reshape(image.shape[:2]))


SEARCHES = ("octaves", "full")


def _search_octaves(found: cv2.CascadeClassifier, gray: np.ndarray, scale_factor: float,
                    min_neighbors: int, min_size: tuple[int, int],
                    max_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Raw windows octave by octave (1×–2× the base window each), grouped once at the end."""
    bw, bh = found.getOriginalWindowSize()
    full_h, full_w = gray.shape
    raw, octave = [], gray
    while octave.shape[0] >= bh and octave.shape[1] >= bw:
        sx, sy = full_w / octave.shape[1], full_h / octave.shape[0]
        lo = (max(bw, int(np.ceil(min_size[0] / sx))), max(bh, int(np.ceil(min_size[1] / sy))))
        hi = (2 * bw - 1, 2 * bh - 1)
        if max_size[0]:
            hi = (min(hi[0], int(max_size[0] / sx)), min(hi[1], int(max_size[1] / sy)))
        if hi[0] < bw or hi[1] < bh:
            break                               # the user's max size lies below this octave
        if lo[0] <= hi[0] and lo[1] <= hi[1]:
            boxes, _ = found.detectMultiScale2(octave, scaleFactor=scale_factor,
                                               minNeighbors=0, minSize=lo, maxSize=hi)
            for x, y, w, h in np.asarray(boxes).reshape(-1, 4):
                raw.append([round(x * sx), round(y * sy), round(w * sx), round(h * sy)])
        if octave.shape[0] < 2 * bh or octave.shape[1] < 2 * bw:
            break
        octave = cv2.resize(octave, (octave.shape[1] // 2, octave.shape[0] // 2),
                            interpolation=cv2.INTER_AREA)
    if min_neighbors == 0 or not raw:
        return np.asarray(raw, np.int32).reshape(-1, 4), np.zeros(len(raw), np.int32)
    # The grouping detectMultiScale does itself (eps 0.2, groups of ≤ min_neighbors dropped).
    boxes, votes = cv2.groupRectangles(raw, int(min_neighbors), 0.2)
    return np.asarray(boxes, np.int32).reshape(-1, 4), np.asarray(votes, np.int32).reshape(-1)


def detect_haar(image: np.ndarray, cascade: str = "frontalface", scale_factor: float = 1.1,
                min_neighbors: int = 5, min_size: int = 30, max_size: int = 0,
                max_side: int = 0, search: str = "octaves") -> HaarResult:
    """Run one cascade on one uint8 image (RGB or grey).

    ``max_side`` > 0 searches a copy shrunk to at most that many pixels on its long side
    (boxes come back in the image's pixels): about (side / max_side)² times less work,
    but objects smaller than the base window × side / max_side are no longer found.
    ``max_side`` = 0 is automatic: the image itself, or for one of more than
    ``AUTO_MAX_PIXELS`` a copy of that many (the result's ``note`` says what it misses).
    """
    check_options(scale_factor, min_neighbors, min_size)
    if not isinstance(max_side, int) or max_side < 0 or 0 < max_side < 32:
        raise StudioError(f"--max-side must be 0 (automatic) or at least 32 pixels, "
                          f"got {max_side}")
    if search not in SEARCHES:
        raise StudioError(f"--search must be one of {', '.join(SEARCHES)}, got {search!r}")
    found = classifier(cascade)
    start = time.perf_counter()
    gray = full = to_gray(image)
    max_side = max_side or auto_max_side(gray.shape)
    shrink = max_side / max(gray.shape) if max_side and max(gray.shape) > max_side else 1.0
    if shrink < 1.0:
        gray = cv2.resize(full, (max(1, round(full.shape[1] * shrink)),
                                 max(1, round(full.shape[0] * shrink))),
                          interpolation=cv2.INTER_AREA)
    lo = (round(min_size * shrink),) * 2
    hi = (round(max_size * shrink),) * 2 if max_size else (0, 0)
    if search == "octaves":
        boxes, neighbors = _search_octaves(found, gray, float(scale_factor),
                                           int(min_neighbors), lo, hi)
    else:
        boxes, neighbors = found.detectMultiScale2(
            gray, scaleFactor=float(scale_factor), minNeighbors=int(min_neighbors),
            minSize=lo, maxSize=hi)
    ms = (time.perf_counter() - start) * 1000.0
    boxes = np.asarray(boxes, np.int32).reshape(-1, 4)
    if shrink < 1.0:
        boxes = np.rint(boxes / shrink).astype(np.int32).reshape(-1, 4)
    neighbors = np.asarray(neighbors, np.int32).reshape(-1)
    if min_neighbors == 0:      # ungrouped raw windows carry no vote count
        neighbors = np.zeros(len(boxes), np.int32)
    order = np.argsort(-(boxes[:, 2] * boxes[:, 3]), kind="stable")   # largest first
    return HaarResult(boxes[order], neighbors[order], cascade_label(cascade), cascade, ms,
                      full.shape[:2], gray.shape[:2], found.getOriginalWindowSize(),
                      int(min_size))


def auto_max_side(shape: tuple[int, ...]) -> int:
    """The long side of the copy an automatic search uses (0: the image itself)."""
    h, w = shape[:2]
    if h * w <= AUTO_MAX_PIXELS:
        return 0
    return max(32, math.floor(max(h, w) * math.sqrt(AUTO_MAX_PIXELS / (h * w))))
