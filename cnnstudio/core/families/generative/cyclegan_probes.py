"""CycleGAN's per-epoch probes: fixed images of each domain sent round the cycle.

    recorder = CycleRecorder(run_dir, probes_a, probes_b, sink)   # epoch hook
    frame = CycleStore(run_dir).read(3)     # a → G(a) → F(G(a)) and b → F(b) → G(F(b))

Layout under ``run_dir/probes``: ``cyclegan-epoch-NNNN.npz`` holding the six uint8 batches
(N, H, W, C) and ``cycle_l1``: the mean |F(G(a)) − a| and |G(F(b)) − b| of the probes, with
pixels on 0..1 (the translations are rounded to uint8 first, as a user sees them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.probes.store import EpochStore, save_npz

PROBES_PER_DOMAIN = 6
ARRAYS = ("a", "g_a", "f_g_a", "b", "f_b", "g_f_b")


@dataclass
class CycleFrame:
    """What ProbeReady("cycle") carries and what the store reads back."""
    epoch: int
    a: np.ndarray               # uint8 (N, H, W, C): probes of domain A
    g_a: np.ndarray             # G(a): as domain B
    f_g_a: np.ndarray           # F(G(a)): back to A
    b: np.ndarray               # probes of domain B
    f_b: np.ndarray             # F(b)
    g_f_b: np.ndarray           # G(F(b))
    cycle_l1: float
    path: str | None = None


def round_trip_l1(originals, reconstructed) -> float:
    """Mean absolute difference of two uint8 batches, pixels on 0..1."""
    diff = np.asarray(originals, np.float64) - np.asarray(reconstructed, np.float64)
    return float(np.mean(np.abs(diff)) / 255.0)


def probe_picks(count: int, seed: int, per_domain: int = PROBES_PER_DOMAIN) -> np.ndarray:
    """Which ``per_domain`` of ``count`` images are probes: the same for the same seed."""
    rng = np.random.default_rng([int(seed), 6])
    return np.sort(rng.permutation(count)[:min(per_domain, count)])


class CycleStore(EpochStore):
    PREFIX, WHAT = "cyclegan-", "cycle probes"

    def read(self, epoch: int) -> CycleFrame:
        path = self.existing(epoch)
        with np.load(path) as data:
            arrays = {name: data[name] for name in ARRAYS}
            return CycleFrame(epoch, **arrays, cycle_l1=float(data["cycle_l1"]),
                              path=str(path))

    def write(self, frame: CycleFrame) -> Path:
        return save_npz(self.path(frame.epoch), cycle_l1=np.float64(frame.cycle_l1),
                        **{name: np.asarray(getattr(frame, name), np.uint8) for name in ARRAYS})


def cycle_frame(model, a, b, epoch: int) -> CycleFrame:
    g_a, f_g_a = model.cycle(a, "a2b")
    f_b, g_f_b = model.cycle(b, "b2a")
    l1 = 0.5 * (round_trip_l1(a, f_g_a) + round_trip_l1(b, g_f_b))
    return CycleFrame(epoch, np.asarray(a, np.uint8), g_a, f_g_a, np.asarray(b, np.uint8), f_b,
                      g_f_b, l1)


class CycleRecorder:
    """Epoch hook ``recorder(model, epoch)``: the probes round the cycle → npz + ProbeReady."""

    def __init__(self, run_dir, probes_a, probes_b, sink=None):
        self.store = CycleStore(run_dir)
        self.a, self.b, self.sink = np.asarray(probes_a), np.asarray(probes_b), sink

    def __call__(self, model, epoch: int) -> Path:
        frame = cycle_frame(model, self.a, self.b, epoch)
        path = self.store.write(frame)
        frame.path = str(path)
        if self.sink is not None:
            from cnnstudio.core.training.events import ProbeReady

            self.sink(ProbeReady("cycle", epoch, str(path), payload=frame))
        return path
