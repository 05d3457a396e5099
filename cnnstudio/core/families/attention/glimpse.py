"""The Glimpse Sensor (Mnih et al. 2014; the book's ``glimpseSensor(image, fixationLocation)``),
numpy in and numpy out, for panels and tests. ``ram_models.GlimpseSensor`` is the same
sensor as a Keras layer; tests hold the two to the same numbers.

    patches = glimpse(image, (0.2, -0.5), patch=12, scales=3, ratio=2)   # (3, 12, 12, C)
    boxes = glimpse_boxes((60, 60), (0.2, -0.5), 12, 3, 2)              # the squares to draw

A location l = (row, column) lies in [−1, 1]²: (−1, −1) is the image's top-left corner,
(1, 1) its bottom-right. Its pixel is ``centre_pixel``. Scale i reads the square of
patch·ratioⁱ pixels around it (zeros outside the image) and averages ratioⁱ×ratioⁱ
blocks down to patch×patch: scale 0 is full resolution, each further one sees more,
coarser. The centre pixel lands at (patch // 2, patch // 2) of every scale's patch.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.errors import ModelError


def check_sensor(patch: int, scales: int, ratio: int) -> None:
    for name, value, low, high in (("patch", patch, 2, 128), ("scales", scales, 1, 6),
                                   ("scale_ratio", ratio, 1, 8)):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ModelError(f"{name} must be an integer between {low} and {high}, got "
                             f"{value!r}")


def centre_pixel(location, height: int, width: int) -> tuple[int, int]:
    """The pixel (row, column) a location in [−1, 1]² points at, clipped into the image."""
    ly, lx = (float(v) for v in np.clip(np.asarray(location, np.float64), -1.0, 1.0))
    return (min(int(np.floor((ly + 1.0) / 2.0 * height)), height - 1),
            min(int(np.floor((lx + 1.0) / 2.0 * width)), width - 1))


def glimpse_boxes(image_shape, location, patch: int, scales: int, ratio: int):
    """(top, left, side) in pixels of each scale's square, smallest first."""
    cy, cx = centre_pixel(location, *image_shape[:2])
    out = []
    for i in range(scales):
        side = patch * ratio ** i
        out.append((cy - side // 2, cx - side // 2, side))
    return out


def _crop(image: np.ndarray, top: int, left: int, side: int) -> np.ndarray:
    """The side×side square at (top, left), zeros where it leaves the image."""
    h, w, c = image.shape
    out = np.zeros((side, side, c), np.float32)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + side, h), min(left + side, w)
    if y0 < y1 and x0 < x1:
        out[y0 - top:y1 - top, x0 - left:x1 - left] = image[y0:y1, x0:x1]
    return out


def glimpse(image, location, patch: int = 12, scales: int = 3, ratio: int = 2) -> np.ndarray:
    """float32 (scales, patch, patch, C): what the sensor reads at ``location``."""
    check_sensor(patch, scales, ratio)
    image = np.asarray(image, np.float32)
    if image.ndim == 2:
        image = image[..., None]
    out = []
    for i, (top, left, side) in enumerate(glimpse_boxes(image.shape, location, patch, scales,
                                                        ratio)):
        f = ratio ** i
        region = _crop(image, top, left, side)
        out.append(region.reshape(patch, f, patch, f, -1).mean(axis=(1, 3)))
    return np.stack(out)


def glimpse_unit(glimpses: np.ndarray) -> np.ndarray:
    """Patches (…, g, g, C) scaled to [0, 1] each by its own brightest pixel, so a faint
    coarse scale still shows; an empty patch stays black."""
    x = np.asarray(glimpses, np.float32)
    top = x.max(axis=(-3, -2, -1), keepdims=True)
    return np.divide(x, top, out=np.zeros_like(x), where=top > 0)
