"""Bringing any picture to what an image-to-image run translates, saying what was done.

    image, notes = source_image(photo, (64, 64, 1), edges_of)   # a photo → its edge map
    image, notes = source_image(sketch, (64, 64, 1), edges_of)  # a sketch is kept as drawn
    image, notes = domain_image(photo, (32, 32, 3))             # a CycleGAN's either domain

A pix2pix run of edges2shapes or edges2digits translates white edges on black. A dropped
photo is turned into its edges first; a dropped sketch (a few grey levels, mostly one of
them) is kept as drawn, made white-on-black when it was drawn dark on white. Used by the
prediction dock and by ``cnnstudio translate`` alike, so both treat a file the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from cnnstudio.core.imaging import fit_to_shape, normalize_array

MODES = ("auto", "edges", "as-is")


def _grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, np.uint8)
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)


def sketch_polarity(image: np.ndarray) -> str | None:
    """"light" for light lines on a dark ground, "dark" for dark lines on a light ground,
    None for a photo: a sketch's pixels are nearly all at the two ends of the grey scale."""
    grey = _grey(image)
    ends = np.mean((grey < 48) | (grey > 207))
    if ends < 0.95:
        return None
    return "light" if np.mean(grey < 128) >= 0.5 else "dark"


def _resize_note(image: np.ndarray, shape) -> list[str]:
    h, w = image.shape[:2]
    return [] if (h, w) == tuple(shape[:2]) else [f"resized from {w}×{h} to {shape[1]}×{shape[0]}"]


def source_image(image: np.ndarray, shape, edges_of: Callable[[np.ndarray, int], np.ndarray],
                 mode: str = "auto") -> tuple[np.ndarray, list[str]]:
    """(uint8 ``shape``, notes) for a one-channel edge-map source: a sketch as drawn, a
    photo's edges (``edges_of(image, side)``, the operator the dataset was made with)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    image = normalize_array(image)
    notes = _resize_note(image, shape)
    polarity = sketch_polarity(image) if mode == "auto" else None
    if mode == "edges" or (mode == "auto" and polarity is None):
        edges = np.asarray(edges_of(np.asarray(image, np.uint8), int(shape[0])), np.uint8)
        return edges.reshape(shape[0], shape[1], 1), notes + ["turned into its edges"]
    grey = _grey(image)
    if polarity == "dark":
        grey = 255 - grey
        notes.append("inverted to light lines on black, as the run's edge maps are drawn")
    if grey.shape != tuple(shape[:2]):
        # Area averaging keeps a thin line as a fainter line; the threshold makes it whole.
        grey = cv2.resize(grey, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        grey = np.where(grey >= 48, 255, 0).astype(np.uint8)
    return grey.reshape(shape[0], shape[1], 1), notes


def domain_image(image: np.ndarray, shape) -> tuple[np.ndarray, list[str]]:
    """(uint8 ``shape``, notes): a picture fitted to a CycleGAN's image shape."""
    image = normalize_array(image)
    notes = _resize_note(image, shape)
    channels = image.shape[2]
    if channels != shape[2]:
        notes.append("made grey" if shape[2] == 1 else "given three colour channels")
    return fit_to_shape(image, tuple(shape)), notes
