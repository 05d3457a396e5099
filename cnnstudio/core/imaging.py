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
    return _decode(raw, path.name, "file")


def for_each_image(paths, fn) -> bool:
    """``fn(path, image)`` for each image file of a command's arguments. A file that cannot
    be read (or that ``fn`` finds unusable, raising ImageError) is named in one line on
    stderr and skipped; the rest go on. True when every file went through."""
    import sys

    ok = True
    for path in paths:
        try:
            fn(path, read_image(path))
        except ImageError as exc:
            print(f"cnnstudio: error: {exc}", file=sys.stderr)
            ok = False
    return ok


def decode_image_bytes(data: bytes, name: str = "image") -> np.ndarray:
    return _decode(np.frombuffer(data, dtype=np.uint8), name, "data")


def _decode(raw: np.ndarray, name: str, what: str) -> np.ndarray:
    # imdecode raises, rather than returning None, for an empty buffer and for a header
    # claiming more than CV_IO_MAX_IMAGE_PIXELS (2^30) pixels: both are unreadable input.
    try:
        image = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED) \
            if raw.size and not _png_chunk_overruns(raw) else None
    except cv2.error as exc:
        if "CV_IO_MAX_IMAGE_PIXELS" in str(exc):
            raise ImageError(f"cannot read '{name}': its header claims more than 2^30 "
                             "pixels") from None
        image = None
    if image is None:
        raise ImageError(f"cannot read '{name}': not an image, or the {what} is corrupt")
    if image.ndim == 3 and image.shape[2] == 4 and image.dtype == np.uint8 \
            and _tiff_declares_alpha(raw):
        # libtiff's RGBA reader (OpenCV's 8-bit path) hands back colours already multiplied
        # by alpha: that is the composite over black, so only the alpha channel goes.
        image = image[:, :, :3]
    return normalize_array(image, name=name, bgr=True)


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


def _tiff_declares_alpha(raw: np.ndarray) -> bool:
    """Whether a classic TIFF's first directory has ExtraSamples (338) = 1 or 2 (alpha)."""
    data = raw[:1 << 20].tobytes()
    order = {b"II*\0": "<", b"MM\0*": ">"}.get(data[:4])
    if order is None:
        return False
    try:
        (offset,) = struct.unpack_from(order + "I", data, 4)
        (count,) = struct.unpack_from(order + "H", data, offset)
        for i in range(count):
            tag, kind, _, value = struct.unpack_from(order + "HHIH", data, offset + 2 + 12 * i)
            if tag == 338:
                return kind == 3 and value in (1, 2)     # SHORT: associated / unassociated
    except struct.error:     # a directory beyond the first MiB, or cut short
        return False
    return False


def normalize_array(image: np.ndarray, name: str = "image", bgr: bool = False) -> np.ndarray:
    """Bring any decoded array to uint8 (H, W, 1|3) RGB: scales 16-bit/float, drops alpha."""
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4) or min(image.shape[:2]) < 1:
        raise ImageError(f"cannot use '{name}': unsupported image shape {image.shape}")
    if image.dtype == np.uint16:
        image = (image / 257.0).round().astype(np.uint8)
    elif image.dtype.kind == "f":
        image = np.nan_to_num(image.astype(np.float64))     # NaN → 0, ±inf → ±max
        scale = 255.0 if float(image.max()) <= 1.0 else 1.0
        image = np.clip(image * scale, 0, 255).round().astype(np.uint8)
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


def resize_batch(images: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Fit a whole uint8 batch (N, H, W, C) to ``shape``; a no-op when it already matches."""
    if images.shape[1:] == tuple(shape):
        return images
    out = np.empty((len(images), *shape), dtype=np.uint8)
    for i, image in enumerate(images):
        out[i] = fit_to_shape(image, shape)
    return out
