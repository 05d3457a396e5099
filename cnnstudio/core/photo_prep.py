"""Bring a photo to the training images' form before predicting (chapter 1's MNIST demo).

MNIST digits are light strokes on black, centred by their centre of mass in a 20×20
box inside 28×28. A phone photo of a digit in dark ink on light, unevenly lit paper,
off-centre, is nothing like that, and a LeNet reads it wrong almost every time.

When it applies is decided from the training set's own statistics, recorded in the
run's ``dataset.json`` (``image_stats``, from ``training_stats``):

- ``uniform_background``: the training images' borders are one flat shade (MNIST,
  Fashion-MNIST, scikit-learn's digits); natural photos (CIFAR, dogs vs cats) are not,
  and their inputs are only resized, as before.
- ``background``: that shade. A photo whose own background is on the other side of
  mid-grey is inverted (after evening out its lighting).
- ``centred_content``: the training images hold one object centred by mass inside an
  empty margin (MNIST-style digits); then the photo is cropped to its content and
  placed the same way, at the median ``content_box`` size.

An image already of the model's input size and polarity is left as it is: the
studio's own samples must not be altered.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from cnnstudio.core.imaging import fit_to_shape, normalize_array

MAX_SAMPLE = 512
# A phone photo's strokes survive at this size, and the lighting step's kernel (1/12 of the
# side) stays small: on a 4000² photo it took 100 s at full size.
WORK_SIDE = 1024


def _border(gray: np.ndarray) -> np.ndarray:
    return np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])


def _gray(image: np.ndarray) -> np.ndarray:
    image = normalize_array(image)
    if image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return image[:, :, 0]


def training_stats(images: np.ndarray) -> dict[str, Any] | None:
    """What the training images look like (JSON-ready), from up to 512 of them."""
    images = np.asarray(images)[:MAX_SAMPLE]
    if images.ndim != 4 or len(images) == 0 or min(images.shape[1:3]) < 8:
        return None
    grays = [_gray(im).astype(np.float32) for im in images]
    borders = np.concatenate([_border(g) for g in grays])
    background = float(np.median(borders))
    uniform = float(np.mean(np.abs(borders - background) <= 40)) >= 0.9
    offsets, boxes = [], []
    for g in grays:
        content = np.abs(g - background)
        mask = content > 64
        if not mask.any():
            continue
        h, w = g.shape
        ys, xs = np.nonzero(mask)
        cy, cx = np.average(np.indices(g.shape), axis=(1, 2), weights=content + 1e-6)
        offsets.append(max(abs(cy - (h - 1) / 2) / h, abs(cx - (w - 1) / 2) / w))
        boxes.append(max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) / max(h, w))
    centred = bool(uniform and offsets and np.median(offsets) < 0.06
                   and np.median(boxes) < 0.9)
    return {"background": round(background, 1), "uniform_background": bool(uniform),
            "centred_content": centred,
            "content_box": round(float(np.median(boxes)), 3) if boxes else None,
            "channels": int(images.shape[3])}


def adapt(image: np.ndarray, stats: dict | None, shape) -> tuple[np.ndarray, list[str]]:
    """``image`` fitted to ``shape`` as the training images look, and what was done to it
    (each step "short name: explanation")."""
    height, width, channels = (int(s) for s in shape)
    image = normalize_array(image)
    if not stats or not stats.get("uniform_background") or channels != 1:
        return fit_to_shape(image, shape), []
    gray = _gray(image)
    if max(gray.shape) > WORK_SIDE:
        scale = WORK_SIDE / max(gray.shape)
        gray = cv2.resize(gray, (max(1, round(gray.shape[1] * scale)),
                                 max(1, round(gray.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
    train_dark = stats["background"] < 128
    photo_dark = float(np.median(_border(gray))) < 128
    if gray.shape == (height, width) and photo_dark == train_dark:
        return fit_to_shape(image, shape), []       # already in the training images' form
    steps = []
    strength = _ink_strength(gray, photo_dark, big=min(gray.shape) >= 2 * max(height, width))
    if min(gray.shape) >= 2 * max(height, width):
        steps.append("lighting evened: the paper's uneven brightness divided away")
    if photo_dark != train_dark:
        steps.append("inverted: dark strokes on a light background became light on dark, as "
                     "in training" if train_dark else
                     "inverted: light strokes on a dark background became dark on light, as "
                     "in training")
    strength, stretched = _stretch(strength)
    if stretched:
        steps.append("contrast stretched: background to 0, strokes to full strength")
    if stats.get("centred_content") and stats.get("content_box"):
        placed = _crop_and_centre(strength, (height, width), float(stats["content_box"]))
        if placed is not None:
            strength = placed
            box = round(float(stats["content_box"]) * max(height, width))
            steps.append(f"centred: cropped to the content, scaled into a {box}×{box} box and "
                         "centred by its centre of mass, as the training images are")
    if strength.shape != (height, width):
        strength = cv2.resize(strength, (width, height), interpolation=cv2.INTER_AREA)
    out = strength if train_dark else 255 - strength
    return out.astype(np.uint8)[:, :, None], steps


def _ink_strength(gray: np.ndarray, photo_dark: bool, big: bool) -> np.ndarray:
    """How much each pixel differs from the paper around it: strokes bright, paper 0."""
    g = gray.astype(np.float32)
    if big:
        # The paper's own brightness, strokes removed (a closing removes dark strokes on
        # light paper, an opening light ones on dark): uneven light is divided away.
        k = max(3, (min(g.shape) // 12) | 1)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        op = cv2.MORPH_OPEN if photo_dark else cv2.MORPH_CLOSE
        paper = cv2.morphologyEx(cv2.GaussianBlur(g, (3, 3), 0), op, kernel)
        paper = cv2.GaussianBlur(paper, (k, k), 0)
        diff = (g - paper) if photo_dark else (paper - g)
        return np.clip(diff / np.maximum(paper if not photo_dark else 255 - paper, 16) * 255,
                       0, 255)
    level = float(np.median(_border(g)))
    return np.clip(g - level if photo_dark else level - g, 0, 255)


def _stretch(strength: np.ndarray) -> tuple[np.ndarray, bool]:
    """Paper to 0 and the strongest strokes to 255; faint noise below Otsu's half cut."""
    s8 = np.clip(strength, 0, 255).astype(np.uint8)
    if s8.max() == 0:
        return strength.astype(np.float32), False
    threshold, _ = cv2.threshold(s8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    low = 0.5 * threshold
    high = float(np.percentile(strength[strength > threshold], 75)) if (
        strength > threshold).any() else float(strength.max())
    if high <= low:
        return strength.astype(np.float32), False
    return np.clip((strength - low) / (high - low), 0, 1).astype(np.float32) * 255, True


def _crop_and_centre(strength: np.ndarray, size: tuple[int, int], box: float):
    """MNIST's recipe: the content's bounding box scaled to fit ``box`` of the side, then
    placed so its centre of mass sits at the image centre."""
    mask = (strength > 0).astype(np.uint8)
    count, labels, info, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return None
    areas = info[1:, cv2.CC_STAT_AREA]
    keep = 1 + np.flatnonzero(areas >= max(4, 0.05 * areas.max()))    # specks are noise
    ys, xs = np.nonzero(np.isin(labels, keep))
    crop = np.where(np.isin(labels, keep), strength, 0)[ys.min():ys.max() + 1,
                                                       xs.min():xs.max() + 1]
    height, width = size
    side = max(1, round(box * max(height, width)))
    scale = side / max(crop.shape)
    new = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    crop = cv2.resize(crop, new, interpolation=cv2.INTER_AREA if scale < 1 else
                      cv2.INTER_LINEAR)
    total = float(crop.sum())
    if total <= 0:
        return None
    cy, cx = np.average(np.indices(crop.shape), axis=(1, 2), weights=crop)
    shift = np.float32([[1, 0, (width - 1) / 2 - cx], [0, 1, (height - 1) / 2 - cy]])
    return cv2.warpAffine(crop, shift, (width, height), flags=cv2.INTER_LINEAR,
                          borderValue=0)
