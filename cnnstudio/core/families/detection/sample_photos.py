"""Dataset ``photos``: real photos that ship with scikit-image, for the detectors' demos.

The astronaut (a person, her face), Chelsea the cat, a cup of coffee, a rocket on its pad,
a motorcycle and the cameraman — offline, no download. Each is letterboxed (aspect kept,
grey bars) into a ``size``×``size`` square so they stack into one array; each photo is its
own class. Not for training: click one to find objects in it (the pretrained COCO Mask
R-CNN, the Haar cascades), or drop your own photo.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from cnnstudio.core.datasets.base import ArraySplit, Dataset, DatasetSource
from cnnstudio.core.errors import DataError
from cnnstudio.core.imaging import read_image
from cnnstudio.core.options import Int

PHOTOS = {"astronaut": "astronaut.png", "cat": "chelsea.png", "coffee": "coffee.png",
          "rocket": "rocket.jpg", "motorcycle": "motorcycle_left.png", "cameraman": "camera.png"}
GREY = 114          # the letterbox colour detectors are usually padded with


def photo_path(name: str) -> Path:
    import skimage

    return Path(skimage.__file__).parent / "data" / PHOTOS[name]


def letterbox(image: np.ndarray, size: int) -> np.ndarray:
    """uint8 RGB ``size``×``size``: the image scaled to fit, centred on grey."""
    if image.ndim == 2 or image.shape[2] == 1:
        image = np.repeat(image.reshape(image.shape[:2])[..., None], 3, axis=2)
    image = image[..., :3]
    h, w = image.shape[:2]
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    out = np.full((size, size, 3), GREY, np.uint8)
    top, left = (size - nh) // 2, (size - nw) // 2
    out[top:top + nh, left:left + nw] = resized
    return out


def load_photos(options, progress=lambda event: None) -> Dataset:
    size = options.get("size", 512)
    if not isinstance(size, int) or isinstance(size, bool) or not 64 <= size <= 1024:
        raise DataError(f"photos: size must be an integer from 64 to 1024, got {size!r}")
    names = list(PHOTOS)
    x = np.stack([letterbox(read_image(photo_path(n)), size) for n in names])
    y = np.arange(len(names), dtype=np.int32)
    return Dataset("photos", f"Sample photos ({size}×{size})", names, (size, size, 3),
                   ArraySplit(x, y), ArraySplit(x.copy(), y.copy()),
                   description=PHOTOS_SOURCE.description)


PHOTOS_SOURCE = DatasetSource(
    "photos", "Sample photos (scikit-image, offline)",
    "Six photos that ship with scikit-image — astronaut, cat, coffee, rocket, motorcycle, "
    "cameraman —, letterboxed to a square: click one to find objects in it (book chapter 7).",
    (512, 512, 3), list(PHOTOS), load_photos,
    specs=(Int("size", None, 64, 1024, "side of the square each photo is letterboxed into "
               "(default 512)", unit="px"),))

# Registered here, like "shapes": the datasets package imports this module while its own
# __init__ is still running.

