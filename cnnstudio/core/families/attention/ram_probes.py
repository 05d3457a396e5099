"""RAM probes, numpy in and numpy out: where the model looks on fixed probe images, every
epoch, with its learned policy and with random fixations.

    frame = look(model, images, labels, epoch=3)     # GlimpseFrame: both policies
    GlimpseStore(run_dir).load(3)                    # the same frame, read back
    fixations_text(locations, (60, 60))              # "1: (30, 30)  2: (12, 41) …"

Layout under ``run_dir/probes`` (written by ``GlimpseRecorder`` after every epoch):

    ram-probes.npz        images (uint8), labels, written once
    ram-epoch-NNNN.npz    locations (N, T, 2), probabilities (N, T, C) with the location
                          means, and random_locations / random_probabilities: the same
                          network shown uniformly random fixations (seeded, so every
                          epoch sees the same random places)

Glimpses are not stored: ``glimpse.glimpse`` recomputes them exactly from image and
location.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.attention.glimpse import centre_pixel
from cnnstudio.core.probes.store import EpochStore, save_npz

PROBES = 8


@dataclass
class GlimpseFrame:
    epoch: int
    images: np.ndarray             # uint8 (N, H, W, C)
    labels: np.ndarray             # int (N,)
    locations: np.ndarray          # float (N, T, 2) in [−1, 1], learned policy (means)
    probabilities: np.ndarray      # float (N, T, C) after each glimpse
    random_locations: np.ndarray
    random_probabilities: np.ndarray
    path: str = ""


def trace(model, images, mode: str = "mean", seed: int | None = None,
          batch: int = 64) -> dict:
    """``model.trace`` over a batch of uint8 images of the model's shape; ``seed`` makes
    the random policy repeatable."""
    images = np.asarray(images)
    parts = [model.trace(images[i:i + batch], mode,
                         None if seed is None else int(seed) + i)
             for i in range(0, len(images), batch)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def look(model, images, labels, epoch: int, seed: int = 0) -> GlimpseFrame:
    learned = trace(model, images, "mean")
    rand = trace(model, images, "random", seed=seed)
    return GlimpseFrame(epoch, np.asarray(images), np.asarray(labels),
                        learned["locations"], learned["probabilities"],
                        rand["locations"], rand["probabilities"])


def random_policy_accuracy(model, x, y, seed: int = 0, batch: int = 128) -> float:
    """Accuracy of the trained network when it looks at uniformly random places."""
    if len(x) == 0:
        return float("nan")
    probs = trace(model, x, "random", seed=seed, batch=batch)["probabilities"][:, -1]
    return float(np.mean(np.argmax(probs, -1) == np.asarray(y).reshape(-1)))


def fixations(locations, image_shape) -> list[tuple[int, int]]:
    """The pixel (row, column) of each fixation of one trace (T, 2)."""
    return [centre_pixel(loc, *image_shape[:2]) for loc in np.asarray(locations)]


def fixations_text(locations, image_shape) -> str:
    return "  ".join(f"{i}: ({r}, {c})" for i, (r, c) in
                     enumerate(fixations(locations, image_shape), start=1))


# -- storage ----------------------------------------------------------------------------
class GlimpseStore(EpochStore):
    PREFIX, WHAT = "ram-", "glimpses"

    def probes(self) -> tuple[np.ndarray, np.ndarray] | None:
        try:
            with np.load(self.folder / "ram-probes.npz") as data:
                return data["images"], data["labels"]
        except FileNotFoundError:
            return None

    def write_probes(self, images, labels) -> None:
        save_npz(self.folder / "ram-probes.npz", images=np.asarray(images, np.uint8),
                  labels=np.asarray(labels, np.int32))

    def write(self, frame: GlimpseFrame) -> Path:
        path = self.path(frame.epoch)
        save_npz(path, locations=frame.locations.astype(np.float32),
                  probabilities=frame.probabilities.astype(np.float32),
                  random_locations=frame.random_locations.astype(np.float32),
                  random_probabilities=frame.random_probabilities.astype(np.float32))
        return path

    def load(self, epoch: int) -> GlimpseFrame:
        path, probes = self.existing(epoch), self.probes()
        if probes is None:
            raise StudioError(f"no probe images stored beside {path.name}")
        with np.load(path) as d:
            return GlimpseFrame(epoch, probes[0], probes[1], d["locations"], d["probabilities"],
                                d["random_locations"], d["random_probabilities"], str(path))


class GlimpseRecorder:
    """Epoch hook ``recorder(model, epoch)``: both policies on the probe images →
    ram-epoch-NNNN.npz and ProbeReady("ram-glimpses") with the frame."""

    def __init__(self, run_dir, images, labels, sink=None, seed: int = 0):
        self.store, self.sink, self.seed = GlimpseStore(run_dir), sink, int(seed)
        self.images, self.labels = np.asarray(images), np.asarray(labels)
        self.store.write_probes(self.images, self.labels)

    def __call__(self, model, epoch: int) -> Path:
        frame = look(model, self.images, self.labels, epoch, self.seed)
        frame.path = str(self.store.write(frame))
        if self.sink is not None:
            from cnnstudio.core.training.events import ProbeReady

            self.sink(ProbeReady("ram-glimpses", epoch, frame.path, payload=frame))
        return Path(frame.path)
