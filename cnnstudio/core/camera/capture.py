"""Teachable-Machine-style capture: frames saved as numbered PNGs in ``folder/<class>/``, the
layout the studio's folder dataset reads (one sub-folder per class).

Numbers continue after the highest already there, so holding the record button again adds
frames and never overwrites; each file is written whole or not at all (core/atomic.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from cnnstudio.core.atomic import WriteFailed, atomic_path
from cnnstudio.core.errors import StudioError

_NUMBERED = re.compile(r"^(\d+)\.png$", re.IGNORECASE)
DIGITS = 5      # 00001.png …: sorts in capture order in any file manager


def check_class_name(name: str) -> str:
    """A class name that is a safe single folder name, or one clear StudioError."""
    clean = str(name).strip()
    if not clean:
        raise StudioError("a class name cannot be empty")
    if clean in (".", "..") or any(c in clean for c in '/\\:*?"<>|\0'):
        raise StudioError(f"class name {name!r} cannot be a folder name: leave out "
                          '/ \\ : * ? " < > | and the names . and ..')
    return clean


def next_number(class_dir: Path) -> int:
    """One more than the highest numbered PNG in ``class_dir`` (1 in an empty folder)."""
    numbers = [int(m.group(1)) for p in class_dir.glob("*.png")
               if (m := _NUMBERED.match(p.name))] if class_dir.is_dir() else []
    return max(numbers, default=0) + 1


def record_frames(frames: Iterable[np.ndarray], folder: str | Path,
                  class_name: str) -> list[Path]:
    """Save RGB uint8 frames (or grey (H, W)) as ``folder/class_name/NNNNN.png``; the paths
    written, in order."""
    class_dir = Path(folder) / check_class_name(class_name)
    try:
        class_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteFailed.of(class_dir, exc) from exc
    number = next_number(class_dir)
    written = []
    for frame in frames:
        image = _as_image(frame)
        path = class_dir / f"{number:0{DIGITS}d}.png"
        with atomic_path(path, fsync=False) as temp:    # many small files: rename suffices
            image.save(temp, format="PNG")
        written.append(path)
        number += 1
    return written


def _as_image(frame: np.ndarray) -> Image.Image:
    arr = np.asarray(frame)
    if arr.dtype != np.uint8:
        raise StudioError(f"a frame to record must be uint8 pixels, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        return Image.fromarray(arr, mode="L")
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        return Image.fromarray(arr[:, :, :3], mode="RGB")
    raise StudioError(f"a frame to record must be (H, W) or (H, W, 3), got {arr.shape}")
