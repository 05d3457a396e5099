"""Convolution kernels as images: the first thing students ask to "see" in a CNN.

    kernels = conv_kernels(model)                       # {layer name: (kh, kw, cin, cout)}
    view = filter_view(kernels["c1"], "c1", mode="average", norm="filter")
    view.mosaic.image                                   # draw it; NaN = gap

Modes: ``rgb`` (a first layer over colour images: each filter as an RGB patch),
``average`` (mean over input channels), ``channel`` (one input channel), ``all``
(one row per filter, one column per input channel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnstudio.core.probes.grid import Mosaic, normalise, tile

MODES = ("auto", "rgb", "average", "channel", "all")
NORMS = ("filter", "layer", "signed", "none")
CONV_TYPES = ("Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D")


def conv_layer_names(model) -> list[str]:
    return [layer.name for layer in model.layers if type(layer).__name__ in CONV_TYPES]


def layer_kernel(model, name: str) -> np.ndarray:
    """The kernel of one conv layer as numpy (kh, kw, cin, cout); reading weights copies them."""
    layer = model.get_layer(name)
    kernel = layer.depthwise_kernel if hasattr(layer, "depthwise_kernel") else layer.kernel
    return np.asarray(kernel.numpy() if hasattr(kernel, "numpy") else kernel, dtype=np.float32)


def conv_kernels(model) -> dict[str, np.ndarray]:
    """Every conv kernel, keyed by layer name, in model order."""
    return {name: layer_kernel(model, name) for name in conv_layer_names(model)}


@dataclass
class FilterView:
    layer: str
    kernel_shape: tuple[int, ...]     # (kh, kw, cin, cout)
    mode: str                         # the mode actually used ("auto" resolved)
    norm: str
    tiles: np.ndarray                 # (N, kh, kw) or (N, kh, kw, 3), normalised
    mosaic: Mosaic
    value_range: tuple[float, float]  # raw weights shown, before normalisation
    labels: list[str]

    @property
    def title(self) -> str:
        kh, kw, cin, cout = self.kernel_shape
        what = {"rgb": "as RGB", "average": "averaged over inputs", "all": "rows = filters",
                "channel": "one input channel"}[self.mode]
        return f"{self.layer}: {cout} filters of {kh}×{kw}×{cin} ({what})"


def resolve_mode(kernel_shape, mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    cin = kernel_shape[2]
    if mode == "auto":
        return "rgb" if cin == 3 else ("channel" if cin == 1 else "average")
    if mode == "rgb" and cin != 3:
        return "average"           # only a 3-channel input has colours to show
    return mode


def filter_tiles(kernel: np.ndarray, mode: str = "auto", channel: int = 0,
                 norm: str = "filter") -> tuple[np.ndarray, str, list[str]]:
    """The kernel as image tiles, normalised; returns (tiles, resolved mode, labels)."""
    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 4:
        raise ValueError(f"a conv kernel has 4 axes (kh, kw, cin, cout), got {kernel.shape}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
    mode = resolve_mode(kernel.shape, mode)
    kh, kw, cin, cout = kernel.shape
    per_out = np.moveaxis(kernel, 3, 0)                     # (cout, kh, kw, cin)
    if mode == "rgb":
        tiles, labels = per_out, [str(i) for i in range(cout)]
    elif mode == "average":
        tiles, labels = per_out.mean(axis=3), [str(i) for i in range(cout)]
    elif mode == "channel":
        c = int(np.clip(channel, 0, cin - 1))
        tiles, labels = per_out[..., c], [str(i) for i in range(cout)]
    else:   # all: (cout, cin, kh, kw), normalised per output filter across its inputs
        tiles = np.moveaxis(per_out, 3, 1)
        labels = [f"{o}·{i}" for o in range(cout) for i in range(cin)]
    if norm == "filter":
        tiles = normalise(tiles, per_tile=True)
    elif norm == "layer":
        tiles = normalise(tiles, per_tile=False)
    elif norm == "signed":     # zero stays at 0.5: a diverging colour map shows the sign
        top = float(np.abs(tiles).max()) or 1.0
        tiles = tiles / (2 * top) + 0.5
    if mode == "all":
        tiles = tiles.reshape(cout * cin, kh, kw)
    return np.ascontiguousarray(tiles, dtype=np.float32), mode, labels


def filter_view(kernel: np.ndarray, layer: str = "", mode: str = "auto", channel: int = 0,
                norm: str = "filter") -> FilterView:
    kernel = np.asarray(kernel, dtype=np.float32)
    tiles, resolved, labels = filter_tiles(kernel, mode, channel, norm)
    cols = kernel.shape[2] if resolved == "all" else None
    # Kernels are tiny (3×3, 5×5): a one-pixel gap is already a clear separation.
    mosaic = tile(tiles, cols=cols, gap=1)
    return FilterView(layer, tuple(kernel.shape), resolved, norm, tiles, mosaic,
                      (float(kernel.min()), float(kernel.max())), labels)
