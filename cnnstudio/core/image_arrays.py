"""Decoded arrays brought to the studio's form: uint8 (H, W, 1|3) RGB. Shared by the plain
decode (``imaging``) and the bounded one (``bounded_decode``, ``png_rows``).
"""

from __future__ import annotations

import struct

import cv2
import numpy as np

from cnnstudio.core.errors import ImageError


def tiff_declares_alpha(raw: np.ndarray) -> bool:
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
