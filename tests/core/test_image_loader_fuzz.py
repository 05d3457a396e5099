"""The image loader against hostile input (hypothesis): random bytes, every supported format
cut at random points or with a byte changed, extreme sizes, every pixel mode.

The property: each input either decodes to uint8 (H, W, C) with C in {1, 3}, ready for
``fit_to_shape``, or raises ImageError with a one-line message naming the input. Never
another exception, never a hang (each example has a deadline, the test a timeout).
"""

from __future__ import annotations

import io
import os
import struct
import time
import zlib
from datetime import timedelta

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cnnstudio.core.errors import ImageError
from cnnstudio.core.imaging import decode_image_bytes, fit_to_shape, read_image

# CI: 150 fixed examples per property (a few seconds). A deeper, random campaign:
# CNNSTUDIO_FUZZ_EXAMPLES=5000 pytest tests/core/test_image_loader_fuzz.py
DEEP = int(os.environ.get("CNNSTUDIO_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=DEEP or 150, derandomize=not DEEP, deadline=timedelta(seconds=5),
                database=None, suppress_health_check=[HealthCheck.too_slow])
FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "WEBP", "PPM")
COLOUR = (200, 30, 60)
GREY = 84                       # Pillow's L of COLOUR: 0.299·200 + 0.587·30 + 0.114·60
LOSSY = {"JPEG": 4, "WEBP": 4}  # largest channel error allowed after a lossy round trip


def outcome(data: bytes, name: str = "fuzz.bin") -> np.ndarray | None:
    """The property itself: a usable image, or None after a one-line ImageError."""
    try:
        image = decode_image_bytes(data, name=name)
    except ImageError as exc:
        message = str(exc)
        assert message and "\n" not in message and name in message, message
        return None
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
    assert image.shape[2] in (1, 3) and min(image.shape[:2]) >= 1
    assert image.flags.c_contiguous
    for shape in ((28, 28, 1), (32, 32, 3)):     # and the next step takes it
        assert fit_to_shape(image, shape).shape == shape
    return image


# -- encoded samples -------------------------------------------------------------------------

def pillow_image(mode: str, size=(8, 6)) -> Image.Image:
    solid = Image.new("RGB", size, COLOUR)
    w, h = size
    if mode == "1":
        return Image.new("1", size, 1)
    if mode == "I;16":
        return Image.fromarray(np.full((h, w), 200 * 257, np.uint16))
    if mode == "I":
        return Image.new("I", size, 200)
    if mode == "F":
        return Image.fromarray(np.full((h, w), 0.5, np.float32))
    if mode == "P":
        return solid.convert("P", palette=Image.Palette.ADAPTIVE)
    if mode == "RGBA-half":          # half transparent: composited over black
        return Image.new("RGBA", size, (*COLOUR, 128))
    return solid.convert(mode)


def encode(fmt: str, mode: str, size=(8, 6)) -> bytes:
    buffer = io.BytesIO()
    image = pillow_image(mode, size)
    if fmt == "WEBP":
        image.save(buffer, fmt, lossless=mode == "RGBA-half")
    else:
        image.save(buffer, fmt)
    return buffer.getvalue()


def encode_cv(suffix: str, array: np.ndarray) -> bytes:
    ok, data = cv2.imencode(suffix, array)
    assert ok
    return data.tobytes()


#   (format, mode): the RGB every pixel must come back as (grey repeated to three channels)
PILLOW_CASES = {
    **{(f, "RGB"): COLOUR for f in FORMATS},
    **{(f, "L"): (GREY,) * 3 for f in FORMATS},
    **{(f, "1"): (255,) * 3 for f in ("PNG", "BMP", "TIFF", "PPM")},
    **{(f, "P"): COLOUR for f in ("PNG", "BMP", "TIFF")},
    **{(f, "RGBA"): COLOUR for f in ("PNG", "BMP", "TIFF", "WEBP")},
    **{(f, "RGBA-half"): (100, 15, 30) for f in ("PNG", "TIFF", "WEBP")},
    **{(f, "LA"): (GREY,) * 3 for f in ("PNG", "TIFF")},
    **{(f, "I;16"): (200,) * 3 for f in ("PNG", "TIFF", "PPM")},
    ("JPEG", "CMYK"): COLOUR, ("TIFF", "CMYK"): COLOUR,
    ("TIFF", "I"): (200,) * 3, ("TIFF", "F"): (128,) * 3,
}
BGR16 = np.full((6, 8, 3), [60 * 257, 30 * 257, 200 * 257], np.uint16)
OPENCV_CASES = {     # what Pillow cannot write: 16-bit colour, float colour, 16-bit with alpha
    ("PNG", "RGB16"): encode_cv(".png", BGR16),
    ("TIFF", "RGB16"): encode_cv(".tiff", BGR16),
    ("PPM", "RGB16"): encode_cv(".ppm", BGR16),
    ("PNG", "RGBA16"): encode_cv(".png", np.dstack([BGR16, np.full((6, 8), 65535, np.uint16)])),
    ("TIFF", "RGBF"): encode_cv(".tiff", (BGR16 / 65535).astype(np.float32)),
}
SAMPLES = {key: encode(*key) for key in PILLOW_CASES} | OPENCV_CASES
EXPECTED = PILLOW_CASES | dict.fromkeys(OPENCV_CASES, COLOUR)


@pytest.mark.parametrize("key", list(SAMPLES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_every_mode_of_every_format_decodes_to_its_pixels(key):
    image = outcome(SAMPLES[key])
    assert image is not None, f"{key} did not decode"
    assert image.shape[:2] == (6, 8)
    rgb = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image
    error = np.abs(rgb.astype(int) - EXPECTED[key]).max()
    assert error <= LOSSY.get(key[0], 1), (key, rgb[0, 0].tolist())


# -- random and damaged input ----------------------------------------------------------------

MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"II*\x00", b"MM\x00*",
         b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"P5\n", b"P6\n4 4\n255\n", b"P4\n", b"GIF89a"]


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data):
    outcome(data)


@FUZZ
@given(st.sampled_from(MAGIC), st.binary(max_size=2048))
def test_random_bytes_behind_a_real_header(magic, rest):
    outcome(magic + rest)


@FUZZ
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_every_format_truncated_anywhere(key, data):
    whole = SAMPLES[key]
    cut = data.draw(st.integers(0, len(whole) - 1), label="cut")
    outcome(whole[:cut])


@FUZZ
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_every_format_with_a_byte_changed(key, data):
    whole = bytearray(SAMPLES[key])
    where = data.draw(st.integers(0, len(whole) - 1), label="where")
    whole[where] = data.draw(st.integers(0, 255).filter(lambda b: b != whole[where]),
                             label="byte")
    outcome(bytes(whole))


# -- extreme sizes ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("size", [(1, 1), (5000, 1), (1, 5000)], ids=["1x1", "5000x1", "1x5000"])
def test_extreme_shapes_decode_at_their_size(fmt, size):
    image = outcome(encode(fmt, "RGB", size))
    assert image is not None and image.shape == (size[1], size[0], 3)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_a_large_photo_decodes(fmt):
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (2000, 3000, 3), np.uint8)
    image = outcome(encode_cv({"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tiff"}[fmt], noise))
    assert image is not None and image.shape == (2000, 3000, 3)


def png_header(width: int, height: int, body: bytes = b"") -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(body))
            + chunk(b"IEND", b""))


def with_byte(data: bytes, where: int, value: int) -> bytes:
    return data[:where] + bytes([value]) + data[where + 1:]


@pytest.mark.parametrize("data, message", [
    (png_header(100_000, 100_000), "its header claims more than 2^30 pixels"),
    # Found by test_every_format_with_a_byte_changed: the chunk after IHDR now claims 900 MB,
    # and OpenCV allocated all of it (seconds) before noticing the file is 76 bytes long.
    (with_byte(SAMPLES["PNG", "LA"], 33, 54), "not an image, or the data is corrupt"),
    (png_header(30_000, 30_000, b"\0" * 100), "not an image, or the data is corrupt"),
    (b"P6\n30000 30000\n255\n" + b"\0" * 100, "not an image, or the data is corrupt"),
    (b"", "not an image, or the data is corrupt"),
], ids=["png-10^10-pixels", "png-900MB-chunk", "png-9x10^8-pixels-truncated",
        "ppm-9x10^8-pixels", "empty"])
def test_headers_promising_huge_images_fail_fast_with_one_line(data, message):
    start = time.perf_counter()
    with pytest.raises(ImageError) as caught:
        decode_image_bytes(data, name="bomb.png")
    assert str(caught.value) == f"cannot read 'bomb.png': {message}"
    assert time.perf_counter() - start < 2.0       # milliseconds; the 900 MB chunk took 3-14 s


@pytest.mark.parametrize("key", [("PNG", "RGBA-half"), ("TIFF", "CMYK"), ("PPM", "I;16")],
                         ids=lambda k: f"{k[0]}-{k[1]}")
def test_files_and_bytes_agree(tmp_path, key):
    path = tmp_path / f"image.{key[0].lower()}"
    path.write_bytes(SAMPLES[key])
    assert np.array_equal(read_image(path), outcome(SAMPLES[key]))
    path.write_bytes(SAMPLES[key][: len(SAMPLES[key]) // 2])
    with pytest.raises(ImageError, match=f"^cannot read '{path.name}': not an image, or the "
                                         "file is corrupt$"):
        read_image(path)
