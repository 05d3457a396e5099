"""Decoding huge images within a memory budget: the image is downscaled as it is decoded.

A 2 MB PNG can hold 23,000 × 23,000 flat pixels, and OpenCV decodes it whole (twice its
size at the peak) before anything can shrink it. Here the header is read first, and an
image of more than ``MAX_DECODE_PIXELS`` never exists at full size:

- PNG: read a strip of rows at a time and area-averaged by an integer factor
  (``png_rows``); an interlaced one from its first Adam7 pass.
- JPEG: libjpeg's DCT scaling decodes at 1/2, 1/4 or 1/8 size directly
  (``IMREAD_REDUCED_*``): the full image is never formed. A progressive (or multi-scan)
  JPEG is the exception: libjpeg holds every DCT coefficient of the full image, 2 bytes
  each, before the first pixel; beyond ``MAX_JPEG_COEFFICIENT_BYTES`` it is refused.
- Other formats (TIFF, WebP, BMP, PNM, …) have no reduced route: up to
  ``FULL_DECODE_MAX_PIXELS`` they are decoded whole and area-resized at once, beyond it
  they are refused with a message saying to convert them to PNG or JPEG.

No header may claim more than 2^30 pixels (OpenCV's own limit, kept for every route).
``decode_large`` returns None for an image within the budget: the caller decodes it as
before, unchanged.
"""

from __future__ import annotations

import io
import math
import re
import struct
import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from cnnstudio.core import png_rows
from cnnstudio.core.errors import ImageError
from cnnstudio.core.image_arrays import normalize_array, tiff_declares_alpha
from cnnstudio.core.png_rows import corrupt

# The largest image decoded at full size: 4096 × 4096. Every copy of an image this large is
# 16 MB per byte per pixel (RGB 50 MB, float32 grey 67 MB), so the few copies that
# predicting (photo adaptation) or a Haar search make stay within a few hundred MB,
# beside TensorFlow's own ~700 MB. A 12-megapixel phone photo is read unchanged.
MAX_DECODE_PIXELS = 1 << 24
# OpenCV refuses headers beyond this (CV_IO_MAX_IMAGE_PIXELS); so does every route here.
MAX_HEADER_PIXELS = 1 << 30
# Formats without a reduced route are decoded whole up to this (8192 × 8192: 200 MB RGB).
FULL_DECODE_MAX_PIXELS = 1 << 26
# A progressive JPEG's coefficient buffer, allowed up to this: a 4:2:0 photo of about 180
# megapixels (13,000²); a 16,000² one would need 770 MB before its first pixel.
MAX_JPEG_COEFFICIENT_BYTES = 512 << 20


@dataclass(frozen=True)
class Downscaled:
    """How an image was read smaller than its file: sizes are (height, width)."""

    name: str
    original: tuple[int, int]
    size: tuple[int, int]
    route: str                   # "png-rows", "png-adam7-pass1", "jpeg-dct" or "whole"

    @property
    def scale(self) -> tuple[float, float]:
        """(sy, sx): the file's pixels per decoded pixel."""
        return self.original[0] / self.size[0], self.original[1] / self.size[1]

    @property
    def detail(self) -> str:
        """What was done, without the file's name."""
        (oh, ow), (h, w) = self.original, self.size
        return (f"read as a {w}×{h} copy of its {ow}×{oh} pixels (an image over "
                f"{MAX_DECODE_PIXELS / 1e6:.1f} million pixels is downscaled as it is "
                "decoded, to keep memory bounded)")

    @property
    def note(self) -> str:
        return f"{self.name}: {self.detail}"


def too_many(name: str) -> ImageError:
    return ImageError(f"cannot read '{name}': its header claims more than 2^30 pixels")


def decode_large(raw: np.ndarray, name: str, what: str):
    """(uint8 (h, w, 1|3) RGB, Downscaled) for an image over the budget; None for any
    other input (the caller's plain decode handles it and its errors)."""
    head = raw[:8].tobytes()
    if head.startswith(png_rows.SIGNATURE):
        png = png_rows.png_header(raw)
        if png is None or png.width * png.height <= MAX_DECODE_PIXELS:
            return None
        if png.width * png.height > MAX_HEADER_PIXELS:
            raise too_many(name)
        return decode_png(raw, name, what, png=png)
    if head.startswith(b"\xff\xd8"):
        jpeg = jpeg_header(raw)
        if jpeg is None or jpeg.width * jpeg.height <= MAX_DECODE_PIXELS:
            return None
        if jpeg.width * jpeg.height > MAX_HEADER_PIXELS:
            raise too_many(name)
        return _decode_jpeg(raw, jpeg, name, what)
    return _decode_other(raw, name, what)


def area_factor(pixels: int, budget: int | None = None) -> int:
    """The smallest integer k for which pixels / k² fits the budget."""
    budget = budget or MAX_DECODE_PIXELS
    k = max(1, math.ceil(math.sqrt(pixels / budget)))
    while pixels > budget * k * k:
        k += 1
    return k


def decode_png(raw: np.ndarray, name: str = "image", what: str = "data",
               factor: int | None = None, png=None):
    """The PNG route: (uint8 RGB image, Downscaled), area-averaged by ``factor`` (by
    default the smallest that fits the budget)."""
    png = png or png_rows.png_header(raw)
    if png is None:
        raise corrupt(name, what)
    factor = factor or area_factor(png.size[0] * png.size[1])
    image = png_rows.decode_rows(raw, png, factor, name, what)
    route = "png-adam7-pass1" if png.interlaced else "png-rows"
    return image, Downscaled(name, (png.height, png.width), image.shape[:2], route)


# -- JPEG --------------------------------------------------------------------------------

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}


@dataclass(frozen=True)
class JpegHeader:
    width: int
    height: int
    sampling: tuple[tuple[int, int], ...]     # (h, v) sampling factors per component
    buffered: bool            # progressive or multi-scan: every coefficient is held at once

    def coefficient_bytes(self) -> int:
        """What libjpeg holds for a buffered image: 2 bytes per DCT coefficient."""
        hmax = max(h for h, _ in self.sampling)
        vmax = max(v for _, v in self.sampling)
        return sum(2 * math.ceil(self.width * h / hmax / 8) * 8
                   * math.ceil(self.height * v / vmax / 8) * 8 for h, v in self.sampling)


def jpeg_header(raw: np.ndarray) -> JpegHeader | None:
    """A JPEG's frame header (and whether its first scan holds every component), walking
    its segments; None when they cannot be walked."""
    data, pos, end, frame = memoryview(raw), 2, len(raw), None
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:                            # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):      # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2 or pos + 2 + length > end:
            return None
        if marker in _SOF and frame is None:
            h, w, count = struct.unpack_from(">HHB", data, pos + 5)
            if not w or not h or not count or length < 8 + 3 * count:
                return None
            sampling = tuple((data[pos + 11 + 3 * i] >> 4 or 1, data[pos + 11 + 3 * i] & 15
                              or 1) for i in range(count))
            frame = (w, h, sampling, marker in _PROGRESSIVE)
        elif marker == 0xDA:                          # the first scan: how many components
            if frame is None:
                return None
            w, h, sampling, progressive = frame
            return JpegHeader(w, h, sampling, progressive or data[pos + 4] < len(sampling))
        pos += 2 + length
    return None


def _decode_jpeg(raw: np.ndarray, jpeg: JpegHeader, name: str, what: str):
    w, h = jpeg.width, jpeg.height
    if jpeg.buffered and jpeg.coefficient_bytes() > MAX_JPEG_COEFFICIENT_BYTES:
        raise ImageError(f"cannot read '{name}': a progressive JPEG of {w}×{h} pixels needs "
                         f"{jpeg.coefficient_bytes() / 2**20:,.0f} MB to decode even downscaled; "
                         "save it as a baseline JPEG or a PNG")
    factor = next((f for f in (2, 4, 8) if -(-w // f) * -(-h // f) <= MAX_DECODE_PIXELS), 8)
    grey = {2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
            8: cv2.IMREAD_REDUCED_GRAYSCALE_8}
    colour = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
              8: cv2.IMREAD_REDUCED_COLOR_8}
    # as read_image's IMREAD_UNCHANGED: one channel for a grey JPEG, EXIF orientation unused
    flags = (grey if len(jpeg.sampling) == 1 else colour)[factor]
    try:
        image = cv2.imdecode(raw, flags | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        image = None
    if image is None:
        raise corrupt(name, what)
    image = normalize_array(image, name=name, bgr=True)
    return image, Downscaled(name, (h, w), image.shape[:2], "jpeg-dct")


# -- other formats -----------------------------------------------------------------------

# PNM: the fewest bytes a pixel takes in the file (P1 and P4: bits; others by maxval)
_PNM_BYTES = {b"1": (1, 1), b"2": (2, 2), b"3": (6, 6), b"4": (1 / 8, 1 / 8), b"5": (1, 2),
              b"6": (3, 6)}


def _pnm_size(raw: np.ndarray) -> tuple[int, int, bool] | None:
    """(width, height, short) of a PNM (P1-P6) from its header: datasets such as GTSRB hold
    tens of thousands of small .ppm files, read here without asking Pillow."""
    head = raw[:1024].tobytes()
    if len(head) < 3 or head[:1] != b"P" or head[1:2] not in _PNM_BYTES:
        return None
    tokens = re.sub(rb"#[^\n]*", b" ", head[2:]).split()
    try:
        w, h = int(tokens[0]), int(tokens[1])
        wide = head[1:2] not in b"14" and int(tokens[2]) > 255
    except (IndexError, ValueError):
        return None
    return w, h, len(raw) < w * h * _PNM_BYTES[head[1:2]][wide]


def _other_size(raw: np.ndarray) -> tuple[int, int, bool] | None:
    """(width, height, short) from Pillow's header readers (they decode nothing); short:
    the data ends before an uncompressed image of that size would. None: no reader knows
    the format. Pillow's own decompression-bomb check is bypassed: it would refuse the
    header, where the studio reads such an image downscaled or names its size."""
    from PIL import Image

    Image.init()
    for data in (raw[:1 << 20], raw) if len(raw) > 1 << 20 else (raw,):
        prefix = data[:16].tobytes()
        for fmt in Image.ID:
            factory, accept = Image.OPEN[fmt]
            try:
                known = accept is None or accept(prefix)
                if not known or isinstance(known, str):
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    im = factory(io.BytesIO(data.tobytes()), "")
                with im:
                    w, h = im.size
                    return w, h, _short(im, len(raw))
            except Exception:             # noqa: BLE001 - a reader's refusal: try the next
                continue
    return None


def _short(im, available: int) -> bool:
    """Whether an uncompressed ("raw") image's rows would run past the data's end."""
    tiles = getattr(im, "tile", None) or []
    if not tiles or any(t[0] != "raw" for t in tiles):
        return False
    bits = {"1": 1, "L": 8, "P": 8, "LA": 16, "RGB": 24, "RGBA": 32, "CMYK": 32,
            "I;16": 16, "I;16B": 16}.get(im.mode, 8)
    w, h = im.size
    return tiles[0][2] + w * h * bits // 8 > available


def _decode_other(raw: np.ndarray, name: str, what: str):
    found = _pnm_size(raw) or _other_size(raw)
    if found is None:
        return None
    w, h, short = found
    pixels = w * h
    if pixels <= MAX_DECODE_PIXELS:
        return None
    if short:
        raise corrupt(name, what)
    if pixels > MAX_HEADER_PIXELS:
        raise too_many(name)
    if pixels > FULL_DECODE_MAX_PIXELS:
        raise ImageError(f"cannot read '{name}': it is {w}×{h} pixels, and only PNG and JPEG "
                         f"files over {FULL_DECODE_MAX_PIXELS / 1e6:.3g} million pixels are read "
                         "(downscaled); save it as PNG or JPEG")
    try:
        image = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED)
    except cv2.error:
        image = None
    if image is None:
        raise corrupt(name, what)
    if image.ndim == 3 and image.shape[2] == 4 and image.dtype == np.uint8 \
            and tiff_declares_alpha(raw):
        image = image[:, :, :3]                       # as imaging._decode does
    k = math.sqrt(MAX_DECODE_PIXELS / (image.shape[0] * image.shape[1]))
    if k < 1:
        size = (max(1, int(image.shape[1] * k)), max(1, int(image.shape[0] * k)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    image = normalize_array(image, name=name, bgr=True)
    return image, Downscaled(name, (h, w), image.shape[:2], "whole")
