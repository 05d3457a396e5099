"""The test-image patches that excite one unit most, each cut at the unit's receptive field.

    found = top_patches(model, "c3", images, channel=5)              # anywhere in the map
    found = top_patches(model, "c3", images, channel=5, position=(2, 3))   # this unit only
    found.patches        # uint8 (k, h, w, C), the strongest first; found.indices, .values
    grid = patch_grid(found)                                      # one 3×3 image to show

A convolution applies the same filter at every position, so by default a channel's unit
is asked "where in each image do you fire most?" and the k images with the strongest
answer win, one patch per image (Zeiler & Fergus 2014). ``position`` keeps the unit's
own place: then every patch comes from the same window of the image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.probes.receptive_field import Field, LayerOutput, field_of

GREY = 128          # where a field reaches past the image (padding), the patch is grey


@dataclass
class TopPatches:
    layer: str
    channel: int
    position: tuple[int, int] | None       # None: the channel's strongest place per image
    patches: np.ndarray                     # uint8 (k, h, w, C)
    indices: np.ndarray                     # (k,) index into the images searched
    values: np.ndarray                      # (k,) the activations, strongest first
    units: list[tuple[int, int]]            # (row, col) of the unit that fired, per patch
    boxes: list[tuple[int, int, int, int]]  # its field in the image (clipped)
    searched: int                           # how many images were searched
    field: Field


def unit_activations(model, layer: str, images, channel: int,
                     position: tuple[int, int] | None = None, batch_size: int = 128,
                     progress: Callable[[float], None] | None = None):
    """(values (N,), rows (N,), cols (N,)): per image, the channel's strongest activation and
    where, or its activation at ``position``."""
    from cnnstudio.core.probes.feature_maps import as_batch, input_shape

    extractor = LayerOutput.get(model, layer)
    h, w, c = (int(d) for d in extractor.model.outputs[0].shape[1:])
    if not 0 <= channel < c:
        raise StudioError(f"layer {layer} has {c} channels; there is no channel {channel}")
    if position is not None and not (0 <= position[0] < h and 0 <= position[1] < w):
        raise StudioError(f"layer {layer}'s maps are {h}×{w}; unit {position} is outside")
    shape = input_shape(model)
    images = np.asarray(images)
    values, rows, cols = [], [], []
    for start in range(0, len(images), batch_size):
        maps = extractor(as_batch(images[start:start + batch_size], shape))[..., channel]
        if position is None:
            flat = maps.reshape(len(maps), -1)
            where = flat.argmax(axis=1)
            values.append(flat[np.arange(len(flat)), where])
            rows.append(where // w)
            cols.append(where % w)
        else:
            values.append(maps[:, position[0], position[1]])
            rows.append(np.full(len(maps), position[0]))
            cols.append(np.full(len(maps), position[1]))
        if progress is not None:
            progress(min(1.0, (start + batch_size) / len(images)))
    if not values:
        return np.zeros(0, np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (np.concatenate(values).astype(np.float32), np.concatenate(rows).astype(np.int64),
            np.concatenate(cols).astype(np.int64))


def cut(image: np.ndarray, field: Field, row: int, col: int) -> np.ndarray:
    """The unit's field cut from ``image``: a window the field's size (at most the image's),
    grey where the field reaches past the image's border."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    H, W = image.shape[:2]
    ph, pw = min(field.size[0], H), min(field.size[1], W)
    top, left, bottom, right = field.box(row, col)          # unclipped
    out = np.full((ph, pw, image.shape[2]), GREY, np.uint8)
    # A field as large as the image (deep layers) sees all of it: the window is the image.
    top = 0 if field.size[0] >= H else top
    left = 0 if field.size[1] >= W else left
    bottom, right = top + ph, left + pw
    y0, x0, y1, x1 = max(top, 0), max(left, 0), min(bottom, H), min(right, W)
    if y1 > y0 and x1 > x0:
        out[y0 - top:y1 - top, x0 - left:x1 - left] = np.clip(image[y0:y1, x0:x1], 0, 255)
    return out


def top_patches(model, layer: str, images, channel: int, position=None, k: int = 9,
                batch_size: int = 128, progress=None) -> TopPatches:
    """The ``k`` images of ``images`` (raw pixels, the model's size) that excite the unit
    most, strongest first, with the patch of each that its field covers."""
    images = np.asarray(images)
    if len(images) == 0:
        raise StudioError("no images to search for the unit's strongest patches")
    f = field_of(model, layer)
    values, rows, cols = unit_activations(model, layer, images, channel, position,
                                          batch_size, progress)
    order = np.argsort(-values, kind="stable")[:k]
    units = [(int(rows[i]), int(cols[i])) for i in order]
    patches = np.stack([cut(images[i], f, r, c) for i, (r, c) in zip(order, units,
                                                                    strict=True)])
    shape = images.shape[1:3]
    return TopPatches(layer, int(channel), None if position is None else tuple(position),
                      patches, order.astype(np.int64), values[order], units,
                      [f.box(r, c, shape) for r, c in units], len(images), f)


def patch_grid(found: TopPatches, cols: int = 3, gap: int = 1) -> np.ndarray:
    """The patches as one uint8 RGB image, ``cols`` to a row, strongest top-left."""
    patches = found.patches
    if patches.shape[-1] == 1:
        patches = np.repeat(patches, 3, axis=-1)
    n, h, w = patches.shape[:3]
    rows = -(-n // cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, 3), 40, np.uint8)
    for i, patch in enumerate(patches):
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = patch[..., :3]
    return out
