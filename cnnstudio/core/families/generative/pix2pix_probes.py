"""pix2pix probes, numpy in and numpy out: fixed probe pairs translated every epoch, D's
patch map over each translation, and the sharpness measure.

    recorder = TranslationRecorder(run_dir, inputs, targets, sink)   # an epoch hook
    recorder(model, epoch)      # → probes/pix2pix-epoch-NNNN.npz + ProbeReady("translation")
    TranslationStore(run_dir).read(3)     # TranslationFrame: inputs, outputs, targets, patches
    sharpness(images)           # mean variance of the Laplacian (grey, pixels 0..1)

**Sharpness** is the classic focus measure: the variance of the Laplacian of the grey
image, pixels scaled to 0..1, averaged over the images. A blurred image has weak second
derivatives, so a low score; the L1-only model's averaged guesses score low, real targets
and a GAN's committed guesses high.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.probes.store import EpochStore, save_npz

PROBE_PAIRS = 8             # the panel's rows: input | generated | target


@dataclass
class TranslationFrame:
    """One epoch's probe pairs: what ProbeReady("translation") carries and the store reads."""
    epoch: int
    inputs: np.ndarray            # uint8 (N, H, W, Cs)
    outputs: np.ndarray           # uint8 (N, H, W, Ct): G(inputs)
    targets: np.ndarray           # uint8 (N, H, W, Ct)
    patches: np.ndarray           # float32 (N, h, w): D's P(real) per patch of (input, output)
    l1: float                     # mean |outputs − targets|, pixels 0..1
    path: str | None = None


def sharpness(images_uint8) -> float:
    """Mean over images of the variance of the Laplacian of the grey image (pixels 0..1)."""
    import cv2

    images = np.asarray(images_uint8)
    if images.ndim == 3:
        images = images[None]
    scores = []
    for image in images:
        x = image.astype(np.float32) / 255.0
        grey = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) if x.shape[-1] == 3 else x[..., 0]
        scores.append(float(np.var(cv2.Laplacian(grey.astype(np.float64), cv2.CV_64F))))
    return float(np.mean(scores)) if scores else 0.0


def mean_l1(outputs_uint8, targets_uint8) -> float:
    """Mean |outputs − targets| on the 0..1 pixel scale."""
    a = np.asarray(outputs_uint8, np.float32)
    return float(np.mean(np.abs(a - np.asarray(targets_uint8, np.float32))) / 255.0)


def probe_picks(count: int, seed: int, n: int = PROBE_PAIRS) -> np.ndarray:
    """The indices of the fixed probe pairs: ``n`` of ``count``, the same for a seed."""
    return np.sort(np.random.default_rng([int(seed), 25]).permutation(count)[:n])


def translation_frame(model, inputs, targets, epoch: int) -> TranslationFrame:
    outputs = model.translate(inputs)
    return TranslationFrame(int(epoch), np.asarray(inputs, np.uint8), outputs,
                            np.asarray(targets, np.uint8),
                            model.patch_realness(inputs, outputs), mean_l1(outputs, targets))


class TranslationStore(EpochStore):
    """Reads (and writes) the per-epoch probe pairs of a run directory."""
    PREFIX, WHAT = "pix2pix-", "translation probes"

    def read(self, epoch: int) -> TranslationFrame:
        path = self.existing(epoch)
        with np.load(path) as data:
            return TranslationFrame(epoch, data["inputs"], data["outputs"], data["targets"],
                                    data["patches"], float(data["l1"]), path=str(path))

    def write(self, frame: TranslationFrame) -> Path:
        return save_npz(self.path(frame.epoch), inputs=frame.inputs, outputs=frame.outputs,
                        targets=frame.targets,
                        patches=np.asarray(frame.patches, np.float32),
                        l1=np.float32(frame.l1))


class TranslationRecorder:
    """Epoch hook ``recorder(model, epoch)``: the probe pairs translated → store + event."""

    def __init__(self, run_dir, inputs, targets, sink=None):
        self.store, self.sink = TranslationStore(run_dir), sink
        self.inputs, self.targets = np.asarray(inputs, np.uint8), np.asarray(targets, np.uint8)

    def __call__(self, model, epoch: int) -> Path:
        frame = translation_frame(model, self.inputs, self.targets, epoch)
        frame.path = str(self.store.write(frame))
        if self.sink is not None:
            from cnnstudio.core.training.events import ProbeReady

            self.sink(ProbeReady("translation", frame.epoch, frame.path, payload=frame))
        return Path(frame.path)
