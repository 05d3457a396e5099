"""Photo-like pictures of digits: dark ink on light, unevenly lit paper, off-centre.

What a visitor's phone gives the studio, made from MNIST digits so the class is known:
tests and ``benchmarks/photo_digits.py`` measure how well predictions read them.
"""

from __future__ import annotations

import cv2
import numpy as np


def ink_photo(digit: np.ndarray, rng: np.random.Generator, size=(240, 320)) -> np.ndarray:
    """An RGB uint8 photo (``size`` = height, width) of one 28×28 light-on-dark digit."""
    height, width = size
    glyph = digit[..., 0] if digit.ndim == 3 else digit
    scale = rng.uniform(0.35, 0.7) * height / 28          # the digit 35–70 % of the height
    side = max(8, int(round(28 * scale)))
    glyph = cv2.resize(glyph.astype(np.float32) / 255, (side, side),
                       interpolation=cv2.INTER_CUBIC).clip(0, 1)
    angle = rng.uniform(-12, 12)
    turn = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
    glyph = cv2.warpAffine(glyph, turn, (side, side))
    ink = np.zeros((height, width), np.float32)
    top = int(rng.integers(0, max(1, height - side)))
    left = int(rng.integers(0, max(1, width - side)))
    ink[top:top + side, left:left + side] = glyph[:height - top, :width - left]
    # Paper: bright, with a light gradient and a soft shadow across it.
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(direction) * xx / width + np.sin(direction) * yy / height)
    paper = rng.uniform(170, 235) + rng.uniform(25, 60) * (ramp - ramp.mean())
    tint = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 1.0)], np.float32)
    pen = np.array(rng.choice([[20, 20, 25], [25, 35, 110], [15, 15, 15]]), np.float32)
    alpha = cv2.GaussianBlur(ink, (0, 0), 0.8)[..., None] * rng.uniform(0.8, 1.0)
    photo = paper[..., None] * tint * (1 - alpha) + pen * alpha
    photo += rng.normal(0, rng.uniform(2, 6), photo.shape)
    return np.clip(photo, 0, 255).astype(np.uint8)
