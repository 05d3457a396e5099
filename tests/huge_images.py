"""Huge test images made cheaply, and the peak memory of a child process.

``flat_png(23000, 23000)`` is a valid 23,000 × 23,000 grey PNG of about 0.6 MB, built in a
fraction of a second: each band of equal rows is deflated once (a block of rows, flushed
so that it refers to nothing before it) and that piece is repeated; only the zlib
checksum runs over every byte.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import tempfile
import zlib

BLOCK_ROWS = 64


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))


def _piece(data: bytes) -> bytes:
    """Raw deflate of ``data`` that refers to nothing outside itself, byte-aligned."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflate.compress(data) + deflate.flush(zlib.Z_FULL_FLUSH)


def flat_png(width: int, height: int, value=128, bands=None) -> bytes:
    """A PNG of flat bands: ``bands`` [(rows, value), …] top to bottom (default: one band of
    ``value``). A value is a grey level (an 8-bit grey PNG) or an (r, g, b) tuple (RGB)."""
    bands = bands or [(height, value)]
    assert sum(rows for rows, _ in bands) == height
    colour = isinstance(bands[0][1], tuple)
    stream, adler = [b"\x78\xda"], 1
    for rows, level in bands:
        row = b"\0" + (bytes(level) if colour else bytes([level])) * width
        reps, rest = divmod(rows, BLOCK_ROWS)
        block = row * BLOCK_ROWS
        if reps:
            stream.append(_piece(block) * reps)
        if rest:
            stream.append(_piece(row * rest))
        for _ in range(reps):
            adler = zlib.adler32(block, adler)
        adler = zlib.adler32(row * rest, adler)
    ending = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    stream += [ending, struct.pack(">I", adler)]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2 if colour else 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(stream))
            + _chunk(b"IEND", b""))


def png_header_only(width: int, height: int) -> bytes:
    """An RGB PNG header promising width × height pixels, with a few bytes of rows."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(b"\0" * 100)) + _chunk(b"IEND", b""))


# Runs argv[2:] and writes its peak resident KB to argv[1]. A process's peak counts the
# memory of the process it was forked from (Linux records the old memory's high-water mark
# at exec): this small process forks the measured one, so a large parent (a test worker
# holding TensorFlow) does not count.
MEASURE = ("import os, subprocess, sys\n"
           "child = subprocess.Popen(sys.argv[2:])\n"
           "_, status, usage = os.wait4(child.pid, 0)\n"
           "open(sys.argv[1], 'w').write(f'{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}')")


def peak_rss_mb(code: str, *args: str) -> tuple[float, str]:
    """Run ``python -c code args…`` in a fresh process: (its peak resident memory in MB, its
    stdout). Fails with its stderr when it fails."""
    with tempfile.TemporaryDirectory() as folder:
        measured = os.path.join(folder, "peak")
        done = subprocess.run([sys.executable, "-c", MEASURE, measured, sys.executable, "-c",
                               code, *args], capture_output=True, text=True, timeout=240)
        kb, status = open(measured).read().split()
    assert int(status) == 0, done.stderr
    return int(kb) / 1024, done.stdout
