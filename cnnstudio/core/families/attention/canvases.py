"""Digits placed on larger canvases (book chapter 9, Mnih et al. 2014), numpy only.

    scene = Scene(canvas=60, clutter=4)                    # "cluttered translated MNIST"
    x, centres = place_digits(digits, scene, rng)          # uint8 (N, 60, 60, C), (N, 2)
    x, y, centres = scene_batch(digits, labels, scene, seed, epoch=3, batch=7, size=64)

- translated: the 28×28 digit at a uniformly random position on the canvas;
- cluttered: the same with ``clutter`` random ``fragment``×``fragment`` pieces of *other*
  digits scattered first (the digit is drawn last, pixel-wise maximum, as in the paper);
- noisy collage (the book's): a larger canvas, Gaussian pixel noise and a digit kept away
  from the centre (``off_centre``: its centre at least that fraction of the way out).

``centres`` are the digit centres in glimpse coordinates: (row, column) in [−1, 1], the
same frame as the Glimpse Sensor's locations. Every placement comes from the numpy
generator it is given, so a seed repeats a scene exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnstudio.core.errors import DataError


@dataclass(frozen=True)
class Scene:
    canvas: int = 60
    clutter: int = 0
    fragment: int = 8
    noise: float = 0.0          # Gaussian noise std as a fraction of full scale (255)
    off_centre: float = 0.0     # 0 = anywhere; 0.4 = digit centre ≥ 40 % of the way out

    def check(self, digit_side: int) -> None:
        if not isinstance(self.canvas, int) or not digit_side <= self.canvas <= 512:
            raise DataError(f"canvas must be an integer between {digit_side} (the digits' "
                            f"size) and 512, got {self.canvas!r}")
        if not isinstance(self.clutter, int) or not 0 <= self.clutter <= 64:
            raise DataError(f"clutter must be an integer between 0 and 64 fragments, got "
                            f"{self.clutter!r}")
        if not 2 <= self.fragment <= digit_side:
            raise DataError(f"fragment must be between 2 and {digit_side} pixels, got "
                            f"{self.fragment!r}")
        if not 0.0 <= float(self.noise) <= 1.0:
            raise DataError(f"noise must be between 0 and 1 (a fraction of full scale), got "
                            f"{self.noise!r}")
        if not 0.0 <= float(self.off_centre) < 1.0:
            raise DataError(f"off_centre must be in [0, 1), got {self.off_centre!r}")


def _positions(rng: np.random.Generator, n: int, free: int, off_centre: float) -> np.ndarray:
    """(n, 2) top-left corners of the digits; with ``off_centre`` redrawn until far enough
    out (the centre's Chebyshev distance from the canvas centre, as a fraction of the most
    it can be)."""
    corners = rng.integers(0, free + 1, size=(n, 2))
    if off_centre <= 0 or free == 0:
        return corners
    for _ in range(100):
        near = np.abs(2 * corners - free).max(axis=1) < off_centre * free
        if not near.any():
            break
        corners[near] = rng.integers(0, free + 1, size=(int(near.sum()), 2))
    return corners


def place_digits(digits: np.ndarray, scene: Scene, rng: np.random.Generator,
                 pool: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each digit of uint8 (N, h, w, C) on its own canvas; fragments come from ``pool``
    (default: the same digits). Every random number is drawn up front, in one order, so a
    generator state gives one scene."""
    digits = np.asarray(digits)
    if digits.ndim != 4:
        raise DataError(f"expected digits shaped (N, H, W, C), got {digits.shape}")
    n, h, w, c = digits.shape
    scene.check(max(h, w))
    pool = digits if pool is None else np.asarray(pool)
    side, f, k = scene.canvas, scene.fragment, scene.clutter
    sources = rng.integers(0, len(pool), size=(n, k))
    crops = rng.integers(0, [h - f + 1, w - f + 1], size=(n, k, 2))
    targets = rng.integers(0, side - f + 1, size=(n, k, 2))
    corners = _positions(rng, n, side - max(h, w), scene.off_centre)
    out = np.zeros((n, side, side, c), np.uint8)
    for i in range(n):
        canvas = out[i]
        for j in range(k):
            (sy, sx), (ty, tx) = crops[i, j], targets[i, j]
            piece = pool[sources[i, j], sy:sy + f, sx:sx + f]
            np.maximum(canvas[ty:ty + f, tx:tx + f], piece, out=canvas[ty:ty + f, tx:tx + f])
        top, left = corners[i]
        region = canvas[top:top + h, left:left + w]
        np.maximum(region, digits[i], out=region)
    centres = np.stack([2.0 * (corners[:, 0] + h / 2) / side - 1.0,
                        2.0 * (corners[:, 1] + w / 2) / side - 1.0], axis=1).astype(np.float32)
    if scene.noise > 0:
        noise = rng.standard_normal(out.shape, dtype=np.float32) * np.float32(255 * scene.noise)
        out = np.clip(np.round(out + noise), 0, 255).astype(np.uint8)
    return out, centres


def scene_rng(seed: int, *stream: int) -> np.random.Generator:
    """The generator for one batch (or one fixed split): the same numbers for the same key."""
    return np.random.default_rng([int(seed), *(int(s) for s in stream)])


def scene_batch(digits: np.ndarray, labels: np.ndarray, scene: Scene, seed: int, epoch: int,
                batch: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training batch ``batch`` of ``epoch``: which digits and where, fixed by the key
    (seed, epoch, batch), so every epoch has fresh placements and a rerun the same ones.
    Returns images, labels and the digits' centres in [−1, 1]²."""
    rng = scene_rng(seed, 7, epoch, batch)
    picks = rng.integers(0, len(digits), size=size)
    x, centres = place_digits(digits[picks], scene, rng, pool=digits)
    return x, np.asarray(labels)[picks].astype(np.int32), centres


def fixed_scenes(digits: np.ndarray, scene: Scene, seed: int) -> np.ndarray:
    """Every digit once, at placements fixed by ``seed`` (validation and test splits)."""
    x, _ = place_digits(digits, scene, scene_rng(seed, 11), pool=digits)
    return x


# What MNIST digits look like (photo_prep.training_stats of mnist-5k), so a photo of a digit
# can be brought to that form before it is placed on a canvas.
DIGIT_STATS = {"background": 0.0, "uniform_background": True, "centred_content": True,
               "content_box": 0.714, "channels": 1}


def place_on_canvas(image: np.ndarray, side: int, digit_side: int = 28,
                    digit_stats: dict | None = None) -> tuple[np.ndarray, list[str]]:
    """A dropped picture of any size on the canvas the model was trained on, and what was
    done to it. A picture of the canvas's size is a scene already and kept (grey). Anything
    else is taken as one digit, the way training made scenes: brought to an MNIST digit's
    form (photo_prep: lighting, polarity, centred in its box) at ``digit_side`` pixels and
    pasted on a black ``side``×``side`` canvas, at the centre."""
    from cnnstudio.core.imaging import fit_to_shape, normalize_array
    from cnnstudio.core.photo_prep import adapt

    image = normalize_array(np.asarray(image))
    if image.shape[:2] == (side, side):
        return fit_to_shape(image, (side, side, 1)), []
    digit, steps = adapt(image, digit_stats or DIGIT_STATS, (digit_side, digit_side, 1))
    canvas = np.zeros((side, side, 1), np.uint8)
    top = (side - digit_side) // 2
    canvas[top:top + digit_side, top:top + digit_side] = digit
    steps.append(f"placed: the {digit_side}×{digit_side} digit pasted at the centre of a "
                 f"{side}×{side} black canvas, as training placed digits")
    return canvas, steps
