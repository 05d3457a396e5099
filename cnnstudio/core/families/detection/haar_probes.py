"""Pictures of a Haar cascade at work (numpy in, numpy out) for the Haar tab.

    tiles = feature_tiles(window_rgb, cascade, stage=0)   # one tile per weak classifier
    strip = pyramid_strip(gray, levels)                     # the pyramid's levels, side by side
    boxes_drawn = draw_boxes(image, boxes)                  # the detections

A Haar feature is 2–3 rectangles with weights: the tile paints the positive ones white and
the negative ones black over the detected window, as in Viola and Jones's figures, so one
sees what the stage compares (the eye band darker than the cheeks, the bridge of the nose
lighter than the eyes, …).
"""

from __future__ import annotations

import cv2
import numpy as np

from cnnstudio.core.families.detection.haar_cascades import Cascade, HaarFeature
from cnnstudio.core.families.detection.haar_stages import Level, level_image

BOX_COLOUR = (255, 64, 64)


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = image[..., None]
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[..., :3].copy()


def _polygon(rect, tilted: bool, sx: float, sy: float) -> np.ndarray:
    x, y, w, h = rect[:4]
    if tilted:      # OpenCV's 45° rectangle: sides w and h run down-right and down-left
        pts = [(x, y), (x + w, y + w), (x + w - h, y + w + h), (x - h, y + h)]
    else:
        pts = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    return np.array([[px * sx, py * sy] for px, py in pts], np.float32).round().astype(np.int32)


def paint_feature(tile: np.ndarray, feature: HaarFeature, window: tuple[int, int],
                  opacity: float = 0.6) -> np.ndarray:
    """Rectangles of one feature over a window image already sized as the tile."""
    h, w = tile.shape[:2]
    sx, sy = w / window[0], h / window[1]
    out = tile.astype(np.float32)
    for rect in feature.rects:
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [_polygon(rect, feature.tilted, sx, sy)], 1)
        colour = 255.0 if rect[4] > 0 else 0.0
        m = mask.astype(bool)
        out[m] = out[m] * (1 - opacity) + colour * opacity
    return out.round().astype(np.uint8)


def feature_tiles(window_image: np.ndarray, cascade: Cascade, stage: int = 0,
                  tile: int = 96, limit: int = 12) -> list[np.ndarray]:
    """One picture per feature of ``stage`` (at most ``limit``), over the given window."""
    ww, wh = cascade.window
    size = (tile, max(1, round(tile * wh / ww)))
    base = cv2.resize(_rgb(window_image), size, interpolation=cv2.INTER_AREA)
    return [paint_feature(base, f, cascade.window)
            for f in cascade.stage_features(stage)[:limit]]


def crop_window(image: np.ndarray, box) -> np.ndarray:
    """The pixels of an [x, y, w, h] box, clipped to the image."""
    x, y, w, h = (int(v) for v in box)
    H, W = image.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((max(1, h), max(1, w), 3), np.uint8)
    return _rgb(image[y0:y1, x0:x1])


def draw_boxes(image: np.ndarray, boxes, colour=BOX_COLOUR) -> np.ndarray:
    """The image (RGB) with [x, y, w, h] boxes drawn, lines scaled to the image's size."""
    out = _rgb(image)
    thick = max(1, round(max(out.shape[:2]) / 250))
    for x, y, w, h in np.asarray(boxes, int).reshape(-1, 4):
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), colour, thick)
    return out


def pyramid_strip(gray: np.ndarray, levels: list[Level], base: tuple[int, int],
                  height: int = 160, shown: int = 6, gap: int = 6) -> np.ndarray:
    """Up to ``shown`` levels, evenly picked, at a common scale (the first is ``height``
    high), each with the detector's base window drawn to scale in its corner."""
    if not levels:
        return np.full((height, height, 3), 40, np.uint8)
    picks = sorted({round(i) for i in np.linspace(0, len(levels) - 1, min(shown, len(levels)))})
    k = height / levels[picks[0]].size[1]
    tiles = []
    for i in picks:
        lv = levels[i]
        img = _rgb(level_image(gray, lv))
        size = (max(1, round(lv.size[0] * k)), max(1, round(lv.size[1] * k)))
        t = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        bw, bh = max(2, round(base[0] * k)), max(2, round(base[1] * k))
        cv2.rectangle(t, (1, 1), (min(bw, size[0] - 1), min(bh, size[1] - 1)), (255, 210, 0), 1)
        tiles.append(t)
    width = sum(t.shape[1] for t in tiles) + gap * (len(tiles) - 1)
    strip = np.full((height, width, 3), 40, np.uint8)
    x = 0
    for t in tiles:
        strip[height - t.shape[0]:, x:x + t.shape[1]] = t
        x += t.shape[1] + gap
    return strip
