"""Feature maps: what every channel of every conv/pool layer makes of one image.

    fm = FeatureMaps.for_model(model)     # builds one multi-output keras.Model, cached
    maps = fm(image)                      # {layer: (H, W, C) float32}
    view = channel_view(maps["c1"], "c1") # one layer as a labelled grid

The extractor shares the model's weights, so after each epoch it shows the
current filters without being rebuilt. Call it only on the thread that owns the
model (the run's thread, or an inference copy's).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from cnnstudio.core.imaging import fit_to_shape
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.probes.filters import CONV_TYPES
from cnnstudio.core.probes.grid import Mosaic, normalise, tile

POOL_TYPES = ("MaxPooling2D", "AveragePooling2D")
MAP_TYPES = CONV_TYPES + POOL_TYPES


def map_layer_names(model) -> list[str]:
    """Conv and pooling layers with image-shaped (N, H, W, C) outputs, in model order."""
    names = []
    for layer in model.layers:
        if type(layer).__name__ in MAP_TYPES and len(layer.output.shape) == 4:
            names.append(layer.name)
    return names


def single_input(model):
    # One input tensor, not a one-element list: a list makes Keras warn on every call.
    return model.inputs[0] if len(model.inputs) == 1 else model.inputs


def input_shape(model) -> tuple[int, int, int]:
    return tuple(int(d) for d in model.inputs[0].shape[1:])


def as_batch(images, shape) -> np.ndarray:
    """One image or a batch of raw pixels → float32 (N, H, W, C) the model's size.

    Arrays already the model's shape are taken as they are (raw 0..255 values);
    anything else is fitted (resized, channels converted) like a dropped file.
    """
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[1:] == tuple(shape):
        return arr.astype(np.float32)
    if arr.ndim in (2, 3) and (arr.shape if arr.ndim == 3 else (*arr.shape, 1)) == tuple(shape):
        return arr.reshape(1, *shape).astype(np.float32)
    if arr.ndim == 4:
        return np.stack([fit_to_shape(a, shape) for a in arr]).astype(np.float32)
    return fit_to_shape(arr, shape)[None].astype(np.float32)


class FeatureMaps:
    """A cached multi-output model over the model's conv/pool layers."""

    _cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    _lock = threading.Lock()

    def __init__(self, model, layers: list[str] | None = None):
        self.model = model
        self.layers = list(layers) if layers is not None else map_layer_names(model)
        self.input_shape = input_shape(model)
        outputs = [model.get_layer(n).output for n in self.layers]
        self._extractor = keras().Model(single_input(model), outputs, name="feature_maps") \
            if outputs else None

    @classmethod
    def for_model(cls, model) -> FeatureMaps:
        """One extractor per model, built on first use (building costs ~10× a forward pass)."""
        with cls._lock:
            found = cls._cache.get(model)
            if found is None:
                found = cls._cache[model] = cls(model)
            return found

    def batch(self, images) -> dict[str, np.ndarray]:
        """{layer: (N, H, W, C)} for a batch of raw-pixel images."""
        if self._extractor is None:
            return {}
        x = as_batch(images, self.input_shape)
        # Calling the model directly skips predict()'s per-call setup: ~10× faster for one image.
        outs = self._extractor(x, training=False)
        if not isinstance(outs, (list, tuple)):
            outs = [outs]
        ops = keras().ops
        return {n: np.asarray(ops.convert_to_numpy(o), dtype=np.float32)
                for n, o in zip(self.layers, outs, strict=True)}

    def __call__(self, image) -> dict[str, np.ndarray]:
        """{layer: (H, W, C)} for one image."""
        return {n: m[0] for n, m in self.batch(image).items()}


@dataclass
class MapView:
    layer: str
    shape: tuple[int, int, int]       # (H, W, C) of the layer output
    mosaic: Mosaic
    value_range: tuple[float, float]
    labels: list[str]

    @property
    def title(self) -> str:
        h, w, c = self.shape
        return f"{self.layer}: {c} channels of {h}×{w}"


def channel_view(fmap: np.ndarray, layer: str = "", norm: str = "channel",
                 max_channels: int | None = None, cols: int | None = None) -> MapView:
    """All channels of one (H, W, C) map as a grid, each channel scaled to 0..1.

    ``norm="layer"`` keeps channels comparable (a dead ReLU channel stays black).
    """
    fmap = np.asarray(fmap, dtype=np.float32)
    channels = np.moveaxis(fmap, 2, 0)
    if max_channels is not None:
        channels = channels[:max_channels]
    if norm not in ("channel", "layer", "none"):
        raise ValueError(f"norm must be channel, layer or none, got {norm!r}")
    # A constant channel (a dead ReLU) is drawn dark, as "no response", not mid-grey.
    tiles = channels if norm == "none" else normalise(channels, norm == "channel", flat=0.0)
    return MapView(layer, tuple(fmap.shape), tile(tiles, cols=cols),
                   (float(fmap.min()), float(fmap.max())), [str(i) for i in range(len(tiles))])


def overview(maps: dict[str, np.ndarray], per_layer: int = 8) -> list[MapView]:
    """The first ``per_layer`` channels of every layer: edges first, then shapes."""
    return [channel_view(m, name, max_channels=per_layer, cols=2) for name, m in maps.items()]
