"""Peak memory of the commands on huge images: ``detect --haar`` and ``predict``.

Each round runs each command in a fresh process and reads that process's own peak
resident memory (``os.wait4``'s rusage, taken by a small process that starts it). The images, made once in a temporary folder from
scikit-image's astronaut photo:

- a 16,000 × 16,000 baseline JPEG (quality 90) for ``cnnstudio detect IMAGE --haar
  frontalface``;
- a 20,000 × 20,000 RGB PNG (rows "Up"-filtered, written a strip at a time) for
  ``cnnstudio predict RUN IMAGE``, RUN a one-epoch MLP on scikit-learn's digits trained
  first (or ``--run RUN_DIR``, any classifier run).

Goal: ≤ 1,500 MB each (median of ``--rounds``, default 3). The last line is one JSON
object with ``detect_peak_mb`` and ``predict_peak_mb``.

    python benchmarks/memory.py [--rounds 3] [--run RUN_DIR]
"""

from __future__ import annotations

import argparse
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from _common import add_rounds, emit, goal, summary

GOAL_MB = 1500
DETECT_SIDE, PREDICT_SIDE = 16_000, 20_000


def photo():
    from skimage import data

    return data.astronaut()             # 512 × 512 RGB


def write_jpeg(path: Path, side: int) -> None:
    import cv2

    big = cv2.resize(photo()[..., ::-1], (side, side), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), big, [cv2.IMWRITE_JPEG_QUALITY, 90])


def write_png(path: Path, side: int, strip: int = 500) -> None:
    """The photo upscaled (bilinear) to side², written a strip of rows at a time: the whole
    image never exists here either (it would be 1.2 GB)."""
    import cv2
    import numpy as np

    wide = cv2.resize(photo(), (side, 512), interpolation=cv2.INTER_LINEAR).astype(np.float32)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload)))

    deflate = zlib.compressobj(1)
    previous = np.zeros((side, 3), np.uint8)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8,
                                                                   2, 0, 0, 0)))
        for y0 in range(0, side, strip):
            ys = (np.arange(y0, min(side, y0 + strip)) + 0.5) * 512 / side - 0.5
            lo = np.clip(np.floor(ys).astype(int), 0, 511)
            hi = np.clip(lo + 1, 0, 511)
            t = np.clip(ys - lo, 0, 1)[:, None, None]
            rows = np.rint(wide[lo] * (1 - t) + wide[hi] * t).astype(np.uint8)
            up = rows - np.concatenate([previous[None], rows[:-1]])     # filter 2: Up
            previous = rows[-1]
            filtered = np.concatenate([np.full((len(rows), 1), 2, np.uint8),
                                       up.reshape(len(rows), -1)], axis=1)
            f.write(chunk(b"IDAT", deflate.compress(filtered.tobytes())))
        f.write(chunk(b"IDAT", deflate.flush()) + chunk(b"IEND", b""))


def train_run(folder: Path) -> Path:
    run_dir = folder / "run"
    subprocess.run([sys.executable, "-m", "cnnstudio", "train", "--dataset", "digits",
                    "--model", "mlp", "--model-option", "units=32", "--model-option",
                    "hidden_layers=1", "--epochs", "1", "--run-dir", str(run_dir), "--json"],
                   check=True, capture_output=True, timeout=600)
    return run_dir


# Runs argv[2:] and writes its peak resident KB to argv[1]. A process's peak counts the
# memory of the process it was forked from (Linux records the old memory's high-water mark
# at exec): this small process forks the measured one, so the benchmark's own memory (it
# held the 16,000² photo while writing it) does not count.
MEASURE = ("import os, subprocess, sys\n"
           "child = subprocess.Popen(sys.argv[2:])\n"
           "_, status, usage = os.wait4(child.pid, 0)\n"
           "open(sys.argv[1], 'w').write(f'{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}')")


def peak(args: list[str], folder: Path) -> tuple[float, float, str]:
    """(peak resident MB, seconds, stderr) of ``python -m cnnstudio ARGS`` in a fresh
    process; fails when the command does."""
    measured = folder / "peak"
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, str(measured), sys.executable, "-m",
                           "cnnstudio", *args], capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - t0
    kb, status = measured.read_text().split()
    if int(status) != 0:
        raise SystemExit(f"cnnstudio {' '.join(args)} failed:\n{done.stderr}")
    return int(kb) / 1024, seconds, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_rounds(parser, 3, "rounds, each command in a fresh process")
    parser.add_argument("--run", help="a classifier run to predict with (default: train a "
                                      "one-epoch MLP on digits first)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        jpeg, png = folder / "photo-16000.jpg", folder / "photo-20000.png"
        t0 = time.perf_counter()
        write_jpeg(jpeg, DETECT_SIDE)
        write_png(png, PREDICT_SIDE)
        run_dir = Path(options.run) if options.run else train_run(folder)
        print(f"made {jpeg.name} ({jpeg.stat().st_size / 1e6:.1f} MB) and {png.name} "
              f"({png.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.0f} s",
              flush=True)
        detect, predict = [], []
        for r in range(options.rounds):
            detect.append(peak(["detect", str(jpeg), "--haar", "frontalface"], folder))
            predict.append(peak(["predict", str(run_dir), str(png)], folder))
            print(f"round {r + 1}: detect {detect[-1][0]:.0f} MB in {detect[-1][1]:.1f} s, "
                  f"predict {predict[-1][0]:.0f} MB in {predict[-1][1]:.1f} s", flush=True)
    print("notes:", detect[-1][2].strip(), "|", predict[-1][2].strip(), sep="\n  ")
    d, p = summary((x[0] for x in detect), 1), summary((x[0] for x in predict), 1)
    ds, ps = summary((x[1] for x in detect), 2), summary((x[1] for x in predict), 2)
    print(f"detect --haar, {DETECT_SIDE:,}² JPEG: peak {d['median']:,.0f} MB "
          f"({d['min']:,.0f}–{d['max']:,.0f}), {ds['median']:.1f} s")
    print(f"predict, {PREDICT_SIDE:,}² PNG: peak {p['median']:,.0f} MB "
          f"({p['min']:,.0f}–{p['max']:,.0f}), {ps['median']:.1f} s")
    goal("detect peak memory", d["median"], "<=", GOAL_MB, " MB")
    goal("predict peak memory", p["median"], "<=", GOAL_MB, " MB")
    emit(__file__, {"detect_peak_mb": d["median"], "predict_peak_mb": p["median"],
                    "goal_peak_mb": GOAL_MB, "detect_peak_mb_spread": [d["min"], d["max"]],
                    "predict_peak_mb_spread": [p["min"], p["max"]],
                    "detect_s": ds["median"], "predict_s": ps["median"],
                    "detect_image": f"{DETECT_SIDE}x{DETECT_SIDE} jpeg",
                    "predict_image": f"{PREDICT_SIDE}x{PREDICT_SIDE} png",
                    "rounds": options.rounds})


if __name__ == "__main__":
    main()
