"""Per-epoch probes for the epoch slider: a small fixed set of images, stored every epoch.

    hook = make_probe_hook(run_dir, probe_images, labels, class_names, sink=sink)
    engine.run(config, run_dir=run_dir, epoch_hooks=[hook])
    store = ProbeStore(run_dir); store.epochs() → [1, 2, …]; store.load(3).maps["c1"]

Layout under ``run_dir/probes``:

    probes.json        layer names and shapes, probe labels, class names
    images.npz         the probe images (uint8) and their labels, written once
    epoch-NNNN.npz     f.<layer>: kernels, m.<layer>: maps of every probe image,
                       probs: predictions — all float16, channels capped

Runs on the training thread inside the epoch hook, so it may use the model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnstudio.core.probes.feature_maps import FeatureMaps, as_batch, input_shape
from cnnstudio.core.probes.filters import conv_kernels
from cnnstudio.core.probes.store import EpochStore, save_npz, write_json

MAX_CHANNELS = 32      # of each layer's maps: enough to scrub, small enough to keep every epoch


def choose_probe_images(dataset, count: int = 8, split: str = "test"):
    """One image per class in turn (first of each class, then the second…), fixed forever."""
    labels = np.asarray(getattr(dataset, split).labels)
    by_class = [np.flatnonzero(labels == c) for c in range(dataset.num_classes)]
    picks: list[int] = []
    for rank in range(max((len(b) for b in by_class), default=0)):
        for members in by_class:
            if rank < len(members) and len(picks) < count:
                picks.append(int(members[rank]))
    x, y, _ = getattr(dataset, split).images(picks)
    return x, y


class ProbeRecorder:
    """The epoch hook: ``recorder(model, epoch)`` writes ``epoch-NNNN.npz`` (and emits ProbeReady)."""

    def __init__(self, run_dir, probe_images, labels=None, class_names=None, sink=None,
                 max_channels: int = MAX_CHANNELS):
        self.folder = Path(run_dir) / "probes"
        self.images = np.asarray(probe_images)
        self.labels = None if labels is None else np.asarray(labels, np.int64)
        self.class_names = list(class_names) if class_names is not None else None
        self.sink = sink
        self.max_channels = max_channels
        self.seconds: list[float] = []      # cost of each call, for the benchmark

    def _write_meta(self, model, maps) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        x = as_batch(self.images, input_shape(model)).round().clip(0, 255).astype(np.uint8)
        save_npz(self.folder / "images.npz", images=x,
                  labels=self.labels if self.labels is not None else np.zeros(0, np.int64))
        write_json(self.folder / "probes.json", {
            "version": 1, "count": len(x),
            "labels": None if self.labels is None else self.labels.tolist(),
            "class_names": self.class_names,
            "map_layers": {n: list(m.shape[1:]) for n, m in maps.items()},
            "max_channels": self.max_channels})

    def __call__(self, model, epoch: int) -> Path:
        t0 = time.perf_counter()
        extractor = FeatureMaps.for_model(model)
        x = as_batch(self.images, extractor.input_shape)
        maps = extractor.batch(x)
        if not (self.folder / "probes.json").is_file():
            self._write_meta(model, maps)
        arrays = {f"f.{n}": k.astype(np.float16) for n, k in conv_kernels(model).items()}
        arrays.update({f"m.{n}": m[..., :self.max_channels].astype(np.float16)
                       for n, m in maps.items()})
        probs = np.asarray(model(x, training=False))
        arrays["probs"] = probs.astype(np.float16)
        path = self.folder / f"epoch-{epoch:04d}.npz"
        save_npz(path, **arrays)
        self.seconds.append(time.perf_counter() - t0)
        if self.sink is not None:
            from cnnstudio.core.training.events import ProbeReady

            self.sink(ProbeReady("epoch", epoch, str(path), payload=_unpack(epoch, arrays)))
        return path


def make_probe_hook(run_dir, probe_images, labels=None, class_names=None, sink=None,
                    max_channels: int = MAX_CHANNELS) -> ProbeRecorder:
    """An ``epoch_hooks`` entry for ``engine.run``: callable(model, epoch)."""
    return ProbeRecorder(run_dir, probe_images, labels, class_names, sink, max_channels)


@dataclass
class EpochProbes:
    epoch: int
    filters: dict[str, np.ndarray] = field(default_factory=dict)   # layer → (kh, kw, cin, cout)
    maps: dict[str, np.ndarray] = field(default_factory=dict)      # layer → (N, H, W, C)
    probs: np.ndarray | None = None                                # (N, classes)


def _unpack(epoch: int, arrays) -> EpochProbes:
    out = EpochProbes(epoch)
    for key in arrays:
        value = np.asarray(arrays[key], dtype=np.float32)
        if key.startswith("f."):
            out.filters[key[2:]] = value
        elif key.startswith("m."):
            out.maps[key[2:]] = value
        elif key == "probs":
            out.probs = value
    return out


class ProbeStore(EpochStore):
    """Reads what the recorder wrote; works on a run reopened from disk."""

    def meta(self) -> dict:
        return self.read_json("probes.json")

    def images(self) -> tuple[np.ndarray, np.ndarray]:
        with np.load(self.folder / "images.npz") as data:
            return data["images"], data["labels"]

    def load(self, epoch: int) -> EpochProbes:
        with np.load(self.existing(epoch)) as data:
            return _unpack(epoch, {k: data[k] for k in data.files})
