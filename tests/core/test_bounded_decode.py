"""Images larger than the studio decodes whole are read downscaled, within a memory budget:
PNG a strip of rows at a time, JPEG by libjpeg's DCT scaling, other formats whole up to a
limit; a note says so. The PNG route's unfiltering and pixel types are checked against
OpenCV's own decoding, pixel for pixel."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from cnnstudio.core import bounded_decode, png_rows
from cnnstudio.core.datasets import dataset_config, load_dataset
from cnnstudio.core.errors import ImageError
from cnnstudio.core.imaging import decode_image_bytes, read_image_noted
from tests.huge_images import flat_png, peak_rss_mb, png_header_only


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()


def pil_png(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


def cv_png(array: np.ndarray) -> bytes:
    return cv2.imencode(".png", array)[1].tobytes()


def adam7_png(rgb: np.ndarray) -> bytes:
    """An interlaced RGB PNG (OpenCV and Pillow write none): the seven passes, unfiltered."""
    h, w = rgb.shape[:2]
    rows = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                           (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
        sub = rgb[y0::dy, x0::dx]
        if sub.size:
            rows += b"".join(b"\0" + row.tobytes() for row in sub)

    def chunk(kind, payload):
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload)))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1)
    return (png_rows.SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def png_samples(size=(38, 54)) -> dict[str, bytes]:
    """One PNG of every colour type and bit depth, with and without transparency."""
    h, w = size
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (h, w), np.uint8)
    smooth = cv2.resize(rng.integers(0, 256, (5, 7, 3), np.uint8), (w, h),
                        interpolation=cv2.INTER_CUBIC)
    grey, rgb = Image.fromarray(noise), Image.fromarray(smooth)
    return {
        "grey8": pil_png(grey), "grey8-trns": pil_png(grey, transparency=7),
        "grey1": pil_png(grey.convert("1")),
        "grey16": pil_png(Image.fromarray(rng.integers(0, 65535, (h, w), np.uint16))),
        "rgb8": pil_png(rgb), "rgb8-noise": cv_png(rng.integers(0, 256, (h, w, 3), np.uint8)),
        "rgb8-trns": pil_png(rgb, transparency=tuple(int(v) for v in smooth[3, 4])),
        "rgb16": cv_png(rng.integers(0, 65535, (h, w, 3), np.uint16)),
        "grey-alpha8": pil_png(Image.fromarray(np.dstack([noise, 255 - noise]), "LA")),
        "rgba8": pil_png(Image.fromarray(np.dstack([smooth, noise]), "RGBA")),
        "rgba16": cv_png(rng.integers(0, 65535, (h, w, 4), np.uint16)),
        "palette8": pil_png(rgb.quantize(200)),
        "palette8-trns": pil_png(rgb.quantize(200), transparency=3),
        "palette4": pil_png(rgb.quantize(16), bits=4),
        "palette2": pil_png(rgb.quantize(4), bits=2),
        "palette1": pil_png(rgb.quantize(2), bits=1),
    }


SAMPLES = png_samples()


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_the_png_route_matches_opencv_pixel_for_pixel(kind, monkeypatch):
    # Strips of a few rows: every strip's first row is filtered against the last one read.
    monkeypatch.setattr(png_rows, "STRIP_BYTES", 200)
    raw = np.frombuffer(SAMPLES[kind], np.uint8)
    whole = decode_image_bytes(SAMPLES[kind])
    same, note = bounded_decode.decode_png(raw, factor=1)
    assert same.shape == whole.shape and np.array_equal(same, whole)
    # by 2: the area average of the whole image (16-bit: averaged before, not after, the
    # reduction to 8 bits)
    half, note = bounded_decode.decode_png(raw, factor=2)
    expected = cv2.resize(whole, (27, 19), interpolation=cv2.INTER_AREA).reshape(half.shape)
    assert np.abs(half.astype(int) - expected).max() <= 1
    assert note.original == (38, 54) and note.size == (19, 27) and note.route == "png-rows"


def test_an_interlaced_png_is_read_from_its_first_pass(astronaut):
    photo = np.ascontiguousarray(astronaut[:203, :301])
    raw = np.frombuffer(adam7_png(photo), np.uint8)
    assert np.array_equal(decode_image_bytes(raw.tobytes()), photo)     # a valid PNG
    image, note = bounded_decode.decode_png(raw, factor=1)
    assert np.array_equal(image, photo[::8, ::8]) and note.route == "png-adam7-pass1"
    assert note.original == (203, 301) and note.size == (26, 38)


def test_a_downscaled_photo_is_the_area_average(astronaut, monkeypatch):
    monkeypatch.setattr(bounded_decode, "MAX_DECODE_PIXELS", 200 * 200)
    raw = np.frombuffer(cv_png(astronaut[..., ::-1]), np.uint8)
    image, note = bounded_decode.decode_large(raw, "astronaut.png", "file")
    assert image.shape == (171, 171, 3) and note.scale == (512 / 171, 512 / 171)   # by 3
    expected = cv2.resize(astronaut, (171, 171), interpolation=cv2.INTER_AREA)
    assert np.abs(image.astype(int) - expected).mean() < 1.5


@pytest.mark.slow
def test_a_huge_flat_png_is_read_downscaled_with_a_note(tmp_path):
    path = tmp_path / "grey.png"           # 23,000² grey: 529 MB of pixels in a 0.6 MB file
    path.write_bytes(flat_png(23000, 23000, bands=[(11500, 40), (11500, 200)]))
    assert path.stat().st_size < 3_000_000
    image, note = read_image_noted(path)
    assert image.shape == (3834, 3834, 1) and note.route == "png-rows"   # by 6
    assert image[:1900].max() == image[:1900].min() == 40
    assert image[1920:].max() == image[1920:].min() == 200
    assert note.note == ("grey.png: read as a 3834×3834 copy of its 23000×23000 pixels (an "
                         "image over 16.8 million pixels is downscaled as it is decoded, to "
                         "keep memory bounded)")


@pytest.mark.slow
def test_the_huge_png_is_decoded_within_a_bounded_memory(tmp_path):
    path = tmp_path / "grey.png"
    path.write_bytes(flat_png(23000, 23000))
    peak, out = peak_rss_mb("import sys\nfrom cnnstudio.core.imaging import read_image\n"
                            "print(read_image(sys.argv[1]).shape)", str(path))
    assert out.strip() == "(3834, 3834, 1)"
    # Decoded whole it is 529 MB, and OpenCV peaked at about 1,050 MB; here about 150.
    assert peak < 400, peak


def test_a_large_jpeg_is_decoded_reduced_by_libjpeg(astronaut, monkeypatch):
    monkeypatch.setattr(bounded_decode, "MAX_DECODE_PIXELS", 300 * 300)
    jpeg = cv2.imencode(".jpg", astronaut[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])[1]
    image, note = bounded_decode.decode_large(jpeg, "astronaut.jpg", "file")
    assert image.shape == (256, 256, 3) and note.route == "jpeg-dct"   # 1/2: the DCT's size
    expected = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    assert np.abs(image.astype(int) - expected).mean() < 3
    grey = cv2.imencode(".jpg", cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY))[1]
    image, note = bounded_decode.decode_large(grey, "grey.jpg", "file")
    assert image.shape == (256, 256, 1)                 # a grey JPEG stays one channel


def test_a_huge_progressive_jpeg_is_refused_by_its_coefficient_memory(astronaut, monkeypatch):
    monkeypatch.setattr(bounded_decode, "MAX_DECODE_PIXELS", 300 * 300)
    progressive = cv2.imencode(".jpg", astronaut, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1]
    header = bounded_decode.jpeg_header(progressive)
    assert header.buffered and header.coefficient_bytes() == 2 * 512 * 512 * 1.5   # 4:2:0
    assert bounded_decode.decode_large(progressive, "p.jpg", "file")[0].shape == (256, 256, 3)
    monkeypatch.setattr(bounded_decode, "MAX_JPEG_COEFFICIENT_BYTES", 1 << 19)
    with pytest.raises(ImageError, match=r"^cannot read 'p.jpg': a progressive JPEG of "
                                         r"512×512 pixels needs 1 MB to decode even "
                                         r"downscaled; save it as a baseline JPEG or a PNG$"):
        bounded_decode.decode_large(progressive, "p.jpg", "file")
    baseline = cv2.imencode(".jpg", astronaut)[1]
    assert not bounded_decode.jpeg_header(baseline).buffered


@pytest.mark.parametrize("ext", [".tiff", ".bmp", ".webp", ".ppm"])
def test_other_formats_are_decoded_whole_then_shrunk_or_refused(astronaut, monkeypatch, ext):
    monkeypatch.setattr(bounded_decode, "MAX_DECODE_PIXELS", 256 * 256)
    encoded = cv2.imencode(ext, astronaut[..., ::-1])[1]
    image, note = bounded_decode.decode_large(encoded, "a" + ext, "file")
    assert image.shape == (256, 256, 3) and note.route == "whole"
    expected = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    assert np.abs(image.astype(int) - expected).mean() < 3
    monkeypatch.setattr(bounded_decode, "FULL_DECODE_MAX_PIXELS", 500 * 500)
    with pytest.raises(ImageError, match=f"^cannot read 'a{ext}': it is 512×512 pixels, and "
                                         "only PNG and JPEG files over 0.25 million pixels are "
                                         "read \\(downscaled\\); save it as PNG or JPEG$"):
        bounded_decode.decode_large(encoded, "a" + ext, "file")


@pytest.mark.parametrize("data", [
    png_header_only(40_000, 40_000),
    bytes.fromhex("ffd8ffc0000b08") + struct.pack(">HH", 40_000, 40_000) + b"\x01\x01\x11\x00"
    + bytes.fromhex("ffda0008010100003f00") + b"\0" * 64,
], ids=["png", "jpeg"])
def test_headers_beyond_2_30_pixels_keep_the_guard_message(data):
    with pytest.raises(ImageError, match=r"^cannot read 'bomb': its header claims more than "
                                         r"2\^30 pixels$"):
        decode_image_bytes(data, "bomb")


def test_rows_too_long_for_the_budget_are_refused():
    with pytest.raises(ImageError, match=r"its rows \(500000000 pixels\) are too long"):
        decode_image_bytes(png_header_only(500_000_000, 2), "wide.png")


def test_images_within_the_budget_take_the_plain_route(astronaut):
    for encoded in (cv_png(astronaut), cv2.imencode(".jpg", astronaut)[1].tobytes(),
                    cv2.imencode(".tiff", astronaut)[1].tobytes()):
        raw = np.frombuffer(encoded, np.uint8)
        assert bounded_decode.decode_large(raw, "a", "data") is None
        assert decode_image_bytes(encoded).shape == (512, 512, 3)


def test_a_folder_dataset_takes_a_huge_image(tmp_path):
    for cls, level in (("dark", 30), ("light", 220)):
        (tmp_path / cls).mkdir()
        for i in range(3):
            cv2.imwrite(str(tmp_path / cls / f"{i}.png"), np.full((20, 20), level, np.uint8))
    (tmp_path / "light" / "huge.png").write_bytes(flat_png(5000, 5000, 220))    # 25 MP
    data = load_dataset(dataset_config(str(tmp_path), image_size=16))
    assert len(data.train) + len(data.test) == 7 and not data.skipped
