"""Reading image files and fitting them to a model's input, with OpenCV and numpy.

Every image in the studio is a ``uint8`` array of shape (H, W, C) with C in
{1, 3} and RGB channel order. Models rescale to [0, 1] themselves (their first
layer), so "the same preprocessing as training" is just: read → fit_to_shape.
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np

from cnnstudio.core import bounded_decode
from cnnstudio.core.errors import ImageError
from cnnstudio.core.image_arrays import normalize_array, tiff_declares_alpha

__all__ = ["IMAGE_SUFFIXES", "decode_image_bytes", "decode_image_bytes_noted", "fit_to_shape",
           "for_each_image", "is_image_name", "normalize_array", "read_image",
           "read_image_noted", "resize_batch"]

# OpenCV writes its own "[ERROR:0@3.4] global grfmt_png.cpp … readHeader" lines to stderr for
# each unreadable file; the studio already names every file it skips, in one line.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".bmp", ".tif", ".tiff", ".webp")


def is_image_name(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file into uint8 (H, W, 1|3) RGB; raise ImageError naming the file.
    An image over ``bounded_decode.MAX_DECODE_PIXELS`` comes back downscaled (see
    ``read_image_noted`` for a note saying so)."""
    return read_image_noted(path)[0]


def read_image_noted(path: str | Path):
    """(image, Downscaled or None): ``read_image``, and how the image was downscaled as it
    was decoded (its ``note`` says so in one line, its ``scale`` maps back to the file's
    pixels) when it is larger than the studio decodes at full size."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"image not found: {path}")
    try:
        raw = np.fromfile(str(path), dtype=np.uint8)  # handles non-ASCII paths, unlike imread
    except OSError as exc:
        raise ImageError(f"cannot read '{path.name}': {exc.strerror}") from None
    return _decode(raw, path.name, "file")


def for_each_image(paths, fn, downscaled: bool = False) -> bool:
    """``fn(path, image)`` for each image file of a command's arguments. A file that cannot
    be read (or that ``fn`` finds unusable, raising ImageError) is named in one line on
    stderr and skipped; the rest go on. True when every file went through. An image read
    downscaled gets a note on stderr, or with ``downscaled`` its Downscaled (or None) as
    ``fn``'s third argument, for ``fn`` to say so itself."""
    import sys

    ok = True
    for path in paths:
        try:
            image, smaller = read_image_noted(path)
            if downscaled:
                fn(path, image, smaller)
                continue
            if smaller is not None:
                print(f"cnnstudio: note: {smaller.note}", file=sys.stderr)
            fn(path, image)
        except ImageError as exc:
            print(f"cnnstudio: error: {exc}", file=sys.stderr)
            ok = False
    return ok


def decode_image_bytes(data: bytes, name: str = "image") -> np.ndarray:
    return _decode(np.frombuffer(data, dtype=np.uint8), name, "data")[0]


def decode_image_bytes_noted(data: bytes, name: str = "image"):
    """(image, Downscaled or None), as ``read_image_noted``."""
    return _decode(np.frombuffer(data, dtype=np.uint8), name, "data")


def _decode(raw: np.ndarray, name: str, what: str):
    intact = bool(raw.size) and not _png_chunk_overruns(raw)
    # A header promising more than the studio decodes at full size: read downscaled.
    large = bounded_decode.decode_large(raw, name, what) if intact else None
    if large is not None:
        return large
    # imdecode raises, rather than returning None, for an empty buffer and for a header
    # claiming more than CV_IO_MAX_IMAGE_PIXELS (2^30) pixels: both are unreadable input.
    try:
        image = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED) if intact else None
    except cv2.error as exc:
        if "CV_IO_MAX_IMAGE_PIXELS" in str(exc):
            raise ImageError(f"cannot read '{name}': its header claims more than 2^30 "
                             "pixels") from None
        image = None
    if image is None:
        raise ImageError(f"cannot read '{name}': not an image, or the {what} is corrupt")
    if image.ndim == 3 and image.shape[2] == 4 and image.dtype == np.uint8 \
            and tiff_declares_alpha(raw):
        # libtiff's RGBA reader (OpenCV's 8-bit path) hands back colours already multiplied
        # by alpha: that is the composite over black, so only the alpha channel goes.
        image = image[:, :, :3]
    return normalize_array(image, name=name, bgr=True), None


def _png_chunk_overruns(raw: np.ndarray) -> bool:
    """Whether a PNG declares a chunk longer than the bytes left. Such a file is cut short or
    corrupt, and OpenCV's PNG reader allocates the declared length before noticing: one
    changed byte made a 76-byte file cost 900 MB and seconds."""
    if raw[:8].tobytes() != b"\x89PNG\r\n\x1a\n":
        return False
    pos, end = 8, len(raw)
    while pos + 8 <= end:
        (length,) = struct.unpack_from(">I", raw, pos)
        if length > end - pos - 12:         # 4 length + 4 type + data + 4 CRC
            return True
        if raw[pos + 4:pos + 8].tobytes() == b"IEND":
            return False
        pos += 12 + length
    return False


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


def resize_batch(images: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Fit a whole uint8 batch (N, H, W, C) to ``shape``; a no-op when it already matches."""
    if images.shape[1:] == tuple(shape):
        return images
    out = np.empty((len(images), *shape), dtype=np.uint8)
    for i, image in enumerate(images):
        out[i] = fit_to_shape(image, shape)
    return out
