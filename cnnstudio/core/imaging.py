"""Reading image files and fitting them to a model's input, with OpenCV and numpy.

Every image in the studio is a ``uint8`` array of shape (H, W, C) with C in
{1, 3} and RGB channel order. Models rescale to [0, 1] themselves (their first
layer), so "the same preprocessing as training" is just: read → fit_to_shape.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from cnnstudio.core.errors import ImageError

# OpenCV writes its own "[ERROR:0@3.4] global grfmt_png.cpp … readHeader" lines to stderr for
# each unreadable file; the studio already names every file it skips, in one line.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".bmp", ".tif", ".tiff", ".webp")


def is_image_name(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file into uint8 (H, W, 1|3) RGB; raise ImageError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"image not found: {path}")
    try:
        raw = np.fromfile(str(path), dtype=np.uint8)  # handles non-ASCII paths, unlike imread
    except OSError as exc:
        raise ImageError(f"cannot read '{path.name}': {exc.strerror}") from None
    image = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED) if raw.size else None
    if image is None:
        raise ImageError(f"cannot read '{path.name}': not an image, or the file is corrupt")
    return normalize_array(image, name=path.name, bgr=True)


def decode_image_bytes(data: bytes, name: str = "image") -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageError(f"cannot read '{name}': not an image, or the data is corrupt")
    return normalize_array(image, name=name, bgr=True)


def normalize_array(image: np.ndarray, name: str = "image", bgr: bool = False) -> np.ndarray:
    """Bring any decoded array to uint8 (H, W, 1|3) RGB: scales 16-bit/float, drops alpha."""
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4) or min(image.shape[:2]) < 1:
        raise ImageError(f"cannot use '{name}': unsupported image shape {image.shape}")
    if image.dtype == np.uint16:
        image = (image / 257.0).round().astype(np.uint8)
    elif image.dtype.kind == "f":
        scale = 255.0 if float(np.nanmax(image)) <= 1.0 else 1.0
        image = np.clip(np.nan_to_num(image) * scale, 0, 255).round().astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.shape[2] == 4:
        # Composite over black: transparent pixels become background, as in MNIST-like data.
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        image = (image[:, :, :3].astype(np.float32) * alpha).round().astype(np.uint8)
    if bgr and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(image)


def fit_to_shape(image: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Resize and convert channels so ``image`` matches a model input of ``shape`` (H, W, C)."""
    height, width, channels = (int(s) for s in shape)
    image = normalize_array(image)
    if image.shape[:2] != (height, width):
        shrinking = image.shape[0] > height or image.shape[1] > width
        interp = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        image = cv2.resize(image, (width, height), interpolation=interp)
        if image.ndim == 2:
            image = image[:, :, None]
    if image.shape[2] == channels:
        return image
    if channels == 1:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, None]
    if channels == 3:
        return np.repeat(image, 3, axis=2)
    raise ImageError(f"cannot convert an image to {channels} channels")


def load_for_model(path: str | Path, shape: tuple[int, int, int]) -> np.ndarray:
    return fit_to_shape(read_image(path), shape)


def resize_batch(images: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Fit a whole uint8 batch (N, H, W, C) to ``shape``; a no-op when it already matches."""
    if images.shape[1:] == tuple(shape):
        return images
    out = np.empty((len(images), *shape), dtype=np.uint8)
    for i, image in enumerate(images):
        out[i] = fit_to_shape(image, shape)
    return out
