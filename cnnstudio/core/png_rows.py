"""Reading a PNG a strip of rows at a time: the route ``bounded_decode`` takes for a PNG
too large to decode whole.

The IDAT zlib stream is inflated a strip of rows at a time (and fed to zlib in small
pieces). PNG rows are filtered against their left and upper neighbours, sequentially, so
each strip (with the row before it, already unfiltered, as its first row) is handed to
OpenCV's PNG reader as a small PNG of a type with the same bytes per pixel, stored without
compression: libpng undoes the filters in C. The rows' bytes are then read as the file's
own pixel type (palette, 1-16 bits, alpha; what OpenCV's IMREAD_UNCHANGED gives for the
file, in RGB order) and area-averaged by an integer factor. An interlaced PNG is read
from its first Adam7 pass alone: every 8th pixel of every 8th row.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import cv2
import numpy as np

from cnnstudio.core.errors import ImageError
from cnnstudio.core.image_arrays import normalize_array

SIGNATURE = b"\x89PNG\r\n\x1a\n"
STRIP_BYTES = 8 << 20           # inflated rows per strip
MAX_STRIP_BYTES = 256 << 20     # a strip must hold `factor` rows: wider ones are refused
FEED_BYTES = 256 << 10          # compressed data given to zlib at a time
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
# bytes per pixel (as the PNG filters count them) → a PNG type of the same bytes per
# pixel whose decoded samples are the row's bytes: (colour type, bit depth)
_SAME_BYTES = {1: (0, 8), 2: (0, 16), 3: (2, 8), 4: (6, 8), 6: (2, 16), 8: (6, 16)}


def corrupt(name: str, what: str) -> ImageError:
    return ImageError(f"cannot read '{name}': not an image, or the {what} is corrupt")


@dataclass
class PngHeader:
    width: int
    height: int
    depth: int
    colour: int
    interlaced: bool
    idat: list[tuple[int, int]]          # (start, length) of each IDAT chunk's data
    palette: bytes = b""
    trns: bytes = b""

    @property
    def size(self) -> tuple[int, int]:
        """(w, h) of the pixels read: the image's, or its first Adam7 pass's (every 8th
        pixel of every 8th row) when it is interlaced."""
        if self.interlaced:
            return -(-self.width // 8), -(-self.height // 8)
        return self.width, self.height


def png_header(raw: np.ndarray) -> PngHeader | None:
    """The header chunks of a PNG; None when they are not those of a decodable PNG."""
    data, pos, end = memoryview(raw), 8, len(raw)
    info = None
    while pos + 8 <= end:
        length, kind = struct.unpack_from(">I4s", data, pos)
        body = pos + 8
        if body + length > end:
            return None
        if kind == b"IHDR" and length == 13:
            w, h, depth, colour, _, _, interlace = struct.unpack_from(">IIBBBBB", data, body)
            if depth not in _PNG_DEPTHS.get(colour, ()) or not w or not h:
                return None
            info = PngHeader(w, h, depth, colour, interlace == 1, [])
        elif info is None:
            return None                              # IHDR must come first
        elif kind == b"PLTE":
            info.palette = bytes(data[body:body + length])
        elif kind == b"tRNS":
            info.trns = bytes(data[body:body + length])
        elif kind == b"IDAT":
            info.idat.append((body, length))
        elif kind == b"IEND":
            break
        pos = body + length + 4
    if info is None or not info.idat or (info.colour == 3 and not info.palette):
        return None
    return info


def _rows(raw: np.ndarray, png: PngHeader, row_bytes: int, name: str, what: str):
    """A generator of the IDAT stream's filtered rows (filter byte + row_bytes each): sent a
    row count, it yields that many rows as bytes. The stream is inflated no further than
    asked, and fed in small pieces so that zlib's unconsumed input stays small too."""
    inflate = zlib.decompressobj()
    pieces = (raw[start + i:start + min(length, i + FEED_BYTES)]
              for start, length in png.idat for i in range(0, length, FEED_BYTES))
    pending = b""
    rows = yield
    while True:
        need, parts = rows * (row_bytes + 1), []
        while need:                 # zlib gives no more than asked: nothing is left over
            if not pending:
                piece = next(pieces, None)
                if piece is None or inflate.eof:
                    raise corrupt(name, what)         # the rows end before the image does
                pending = piece
            try:
                parts.append(inflate.decompress(pending, need))
            except zlib.error:
                raise corrupt(name, what) from None
            need -= len(parts[-1])
            pending = inflate.unconsumed_tail
        rows = yield parts


def _png_chunk(kind: bytes, *payload) -> list:
    """A chunk as a list of buffers (joined once, with the rest of the file)."""
    crc = zlib.crc32(kind)
    for part in payload:
        crc = zlib.crc32(part, crc)
    return [struct.pack(">I", sum(len(p) for p in payload)), kind, *payload,
            struct.pack(">I", crc)]


def _stored(parts: list) -> list:
    """A zlib stream of the parts' bytes in stored (uncompressed) blocks: no deflate work."""
    out, adler = [b"\x78\x01"], 1
    for n, part in enumerate(parts):
        view, end = memoryview(part), len(part)
        for i in range(0, end, 65535):
            piece = view[i:i + 65535]
            last = n == len(parts) - 1 and i + 65535 >= end
            out += [struct.pack("<BHH", last, len(piece), len(piece) ^ 0xFFFF), piece]
        adler = zlib.adler32(part, adler)
    return [*out, struct.pack(">I", adler)]


def unfilter(filtered: list, rows: int, row_bytes: int, bpp: int,
             previous: bytes | None) -> np.ndarray:
    """PNG rows (filter byte + data, in pieces) unfiltered by OpenCV's PNG reader: the rows
    become a small PNG of a type with the same bytes per pixel (``_SAME_BYTES``), with the
    row before them, unfiltered, as its first row. Returns OpenCV's decoding of that PNG:
    (rows, w) or (rows, w, 3|4) BGR(A), uint8 or uint16; ``file_bytes`` gives the rows'
    own bytes back."""
    colour, depth = _SAME_BYTES[bpp]
    width = row_bytes * 8 // depth // {0: 1, 2: 3, 6: 4}[colour]
    parts = [part for part in filtered if len(part)]
    if previous is not None:
        parts.insert(0, b"\0" + previous)
    height = rows + (previous is not None)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    small = b"".join([SIGNATURE, *_png_chunk(b"IHDR", ihdr),
                      *_png_chunk(b"IDAT", *_stored(parts)), *_png_chunk(b"IEND")])
    out = cv2.imdecode(np.frombuffer(small, np.uint8), cv2.IMREAD_UNCHANGED)
    if out is None or len(out) != height:
        raise ValueError("filtered rows OpenCV cannot read")
    return out[1:] if previous is not None else out


def file_bytes(decoded: np.ndarray) -> np.ndarray:
    """``unfilter``'s decoding → the rows' bytes as the file holds them (n, row_bytes)."""
    if decoded.ndim == 3:                             # OpenCV's BGR(A) → the file's RGB(A)
        decoded = decoded[..., [2, 1, 0, 3][:decoded.shape[2]]]
    if decoded.dtype == np.uint16:
        decoded = decoded.astype(">u2")
    return np.ascontiguousarray(decoded).view(np.uint8).reshape(len(decoded), -1)


def png_pixels(rows: np.ndarray, png: PngHeader, width: int) -> np.ndarray:
    """Raw PNG rows (n, row_bytes) → pixels as OpenCV's IMREAD_UNCHANGED gives them, in RGB
    order: grey (n, w), or (n, w, 3|4) uint8/uint16."""
    n, depth, colour = len(rows), png.depth, png.colour
    if depth < 8:
        per = 8 // depth
        shifts = np.arange(8 - depth, -1, -depth, dtype=np.uint8)
        values = (rows[:, :, None] >> shifts) & ((1 << depth) - 1)
        values = values.reshape(n, rows.shape[1] * per)[:, :width].astype(np.uint8)
        if colour == 0:
            return values * np.uint8(255 // ((1 << depth) - 1))
        return _palette(values, png)
    channels = _PNG_CHANNELS[colour]
    if depth == 16:
        pixels = rows.view(">u2").astype(np.uint16).reshape(n, width, channels)
    else:
        pixels = rows.reshape(n, width, channels)
    if colour == 3:
        return _palette(pixels[..., 0], png)
    if colour == 0:
        return pixels[..., 0]
    if colour == 4:                                   # grey + alpha → RGBA, as OpenCV does
        return pixels[..., [0, 0, 0, 1]]
    if colour == 2 and len(png.trns) == 6:            # one transparent colour → alpha
        key = np.frombuffer(png.trns, ">u2").astype(pixels.dtype)
        top = np.iinfo(pixels.dtype).max
        alpha = np.where((pixels == key).all(axis=2), 0, top).astype(pixels.dtype)
        return np.concatenate([pixels, alpha[..., None]], axis=2)
    return pixels


def _palette(indices: np.ndarray, png: PngHeader) -> np.ndarray:
    colours = np.zeros((256, 4), np.uint8)
    colours[:, 3] = 255
    table = np.frombuffer(png.palette[:768], np.uint8)
    colours[:len(table) // 3, :3] = table[:len(table) // 3 * 3].reshape(-1, 3)
    alpha = np.frombuffer(png.trns[:256], np.uint8)
    colours[:len(alpha), 3] = alpha
    return colours[indices] if png.trns else colours[indices][..., :3]


def decode_rows(raw: np.ndarray, png: PngHeader, factor: int, name: str = "image",
                what: str = "data") -> np.ndarray:
    """The PNG's pixels (its first Adam7 pass when interlaced) area-averaged by ``factor``
    as uint8 (h, w, 1|3) RGB, a strip of rows at a time: the full image never exists."""
    channels = _PNG_CHANNELS[png.colour]
    width, height = png.size
    row_bytes = -(-width * channels * png.depth // 8)
    if factor * (row_bytes + 1) > MAX_STRIP_BYTES:
        raise ImageError(f"cannot read '{name}': its rows ({png.width} pixels) are too long "
                         "to decode within the memory budget")
    bpp = max(1, channels * png.depth // 8)
    out_w, out_h = -(-width // factor), -(-height // factor)
    per = factor * max(1, STRIP_BYTES // ((row_bytes + 1) * factor))
    out = None
    previous, done, y = None, 0, 0
    rows = _rows(raw, png, row_bytes, name, what)
    next(rows)
    # Where the file's type is the same-bytes type itself, OpenCV's decoding of the strip
    # is already what it would give for the file (BGR order): no bytes to reinterpret.
    as_is = (png.colour, png.depth) == _SAME_BYTES[bpp] and not (png.colour == 2 and png.trns)
    while done < height:
        got = min(per, height - done)
        block = rows.send(got)
        try:
            decoded = unfilter(block, got, row_bytes, bpp, previous)
        except (ValueError, cv2.error):
            raise corrupt(name, what) from None
        previous = file_bytes(decoded[-1:]).tobytes()
        pixels = decoded if as_is else png_pixels(file_bytes(decoded), png, width)
        n = -(-got // factor)         # factor rows each, but for the image's last few
        small = shrink_strip(pixels, (out_w, n), bgr=as_is, name=name)
        if out is None:
            out = np.empty((out_h, out_w, small.shape[2]), np.uint8)
        out[y:y + n] = small
        done, y = done + got, y + n
    rows.close()
    return out


def shrink_strip(pixels: np.ndarray, size: tuple[int, int], bgr: bool,
                 name: str) -> np.ndarray:
    """Rows of decoded pixels → uint8 RGB area-averaged to ``size`` (w, h). Alpha is
    composited over black first (as for any image); opaque pixels are averaged first, on
    fewer pixels to convert."""
    same = pixels.shape[1::-1] == size
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        strip = normalize_array(pixels, name=name, bgr=bgr)
        return strip if same else normalize_array(
            cv2.resize(strip, size, interpolation=cv2.INTER_AREA))
    small = pixels if same else cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    return normalize_array(small, name=name, bgr=bgr)
