"""GAN probes, numpy in and numpy out: sample grids, latent interpolation, diversity, GIFs.

    z = fixed_latent(seed, 64, model.latent_size)        # the console's 8×8 fixed noise
    images = samples(model, z)                           # uint8 (64, H, W, C)
    grid = tile_grid(images)                             # one uint8 (8h+7, 8w+7, C) picture
    path = slerp(z[3], z[17], steps=10)                  # endpoints are exactly z[3], z[17]
    generate(model, 64, seed=7); realness(model, images) → D's probability per image

Layout under ``run_dir/probes`` (written by ``GridRecorder`` every epoch):

    gan.json              latent size, grid side, image shape, the real images' diversity
    gan-latent.npz        z: the fixed latent points (float32), written once
    gan-epoch-NNNN.npz    images: G(z) as uint8, diversity: that grid's score

**Diversity** of a set of images is the mean pairwise RMS pixel distance between them
(pixels scaled to 0..1): 0 when every sample is the same image. The reference is the same
measure on 64 real training images. A GAN whose samples have collapsed onto a few modes
draws near-identical images: ``mode_collapse`` warns when the grid's diversity falls below
half the real images' (from epoch 3 on: G's first grids are near-identical blobs).

Every function that calls a model works with any object having ``generator`` and
``discriminator`` (or ``generate``/``call``), so the semi-supervised GAN reuses them.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.atomic import atomic_path
from cnnstudio.core.errors import StudioError
from cnnstudio.core.probes.store import EpochStore, save_npz, write_json

GRID = 8                    # the console's grid: 8 × 8 fixed latent points
COLLAPSE_RATIO = 0.5        # warn below half the real images' diversity …
COLLAPSE_FROM_EPOCH = 3     # … once G is past its first blobs


@dataclass
class GridFrame:
    """One fixed-noise grid: what ProbeReady("gan-grid") carries and what the store reads."""
    epoch: int
    images: np.ndarray            # uint8 (N, H, W, C)
    diversity: float
    step: int | None = None       # batch within the epoch for a live grid; None at epoch end
    path: str = ""


# -- pictures ------------------------------------------------------------------------------
def to_uint8(images) -> np.ndarray:
    """G's [−1, 1] output → uint8 pixels (N, H, W, C)."""
    x = np.asarray(images, dtype=np.float32)
    return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


def tile_grid(images, cols: int | None = None, gap: int = 1, background: int = 0) -> np.ndarray:
    """uint8 (N, h, w, C) → one uint8 (rows·h + (rows−1)·gap, cols·w + (cols−1)·gap, C)
    picture, row by row; a square grid (8 × 8 for 64) unless ``cols`` says otherwise."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or len(images) == 0:
        raise StudioError(f"expected a non-empty batch of images (N, H, W, C), got shape "
                          f"{images.shape}")
    n, h, w, c = images.shape
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    out = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, c), background,
                  dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, col * (w + gap):col * (w + gap) + w] = images[i]
    return out


def cell_at(x: float, y: float, tile: tuple[int, int], cols: int = GRID, rows: int = GRID,
            gap: int = 1) -> int | None:
    """The grid cell under pixel (x, y) of a ``tile_grid`` picture, or None (a gap, outside)."""
    h, w = tile
    c, r = int(x // (w + gap)), int(y // (h + gap))
    if not (0 <= c < cols and 0 <= r < rows) or x - c * (w + gap) >= w \
            or y - r * (h + gap) >= h or x < 0 or y < 0:
        return None
    return r * cols + c


# -- latent space -----------------------------------------------------------------------------
def fixed_latent(seed: int, count: int, latent_size: int) -> np.ndarray:
    """The same standard-normal latent points for the same seed, in every run and process."""
    rng = np.random.default_rng([int(seed), 8])
    return rng.standard_normal((count, latent_size)).astype(np.float32)


def slerp(z0, z1, steps: int = 10) -> np.ndarray:
    """``steps`` points on the great-circle path from z0 to z1 (endpoints included exactly).

    Spherical, because Gaussian latent points live near a sphere of radius √d: the straight
    line between two of them passes through improbable short vectors (washed-out images).
    The norm is interpolated linearly along the path.
    """
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    if steps < 2:
        raise StudioError(f"an interpolation needs at least 2 steps, got {steps}")
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    if n0 == 0 or n1 == 0:
        out = (1 - t) * z0 + t * z1
    else:
        u0, u1 = z0 / n0, z1 / n1
        omega = np.arccos(np.clip(np.dot(u0, u1), -1.0, 1.0))
        if omega < 1e-6:                  # (nearly) the same direction: a straight line
            direction = (1 - t) * u0 + t * u1
        else:
            direction = (np.sin((1 - t) * omega) * u0 + np.sin(t * omega) * u1) / np.sin(omega)
        out = direction * ((1 - t) * n0 + t * n1)
    out[0], out[-1] = z0, z1              # exact endpoints, whatever the rounding
    return out.astype(np.float32)


# -- models ---------------------------------------------------------------------------------
def _generate_pm1(model, z) -> np.ndarray:
    fn = getattr(model, "generate", None) or model.generator
    return np.asarray(fn(np.asarray(z, np.float32), training=False))


def samples(model, z) -> np.ndarray:
    """uint8 images G draws for latent points ``z`` (inference mode: batch norm's averages)."""
    return to_uint8(_generate_pm1(model, z))


def generate(model, count: int = 64, seed: int = 0) -> np.ndarray:
    """``count`` fresh samples, the same for the same seed."""
    if not isinstance(count, int) or count < 1:
        raise StudioError(f"count must be a positive integer, got {count!r}")
    z = np.random.default_rng(int(seed)).standard_normal((count, model.latent_size))
    out = [samples(model, z[i:i + 256]) for i in range(0, count, 256)]
    return np.concatenate(out)


def interpolate(model, z0, z1, steps: int = 10) -> np.ndarray:
    return samples(model, slerp(z0, z1, steps))


def _fit(images, shape) -> np.ndarray:
    from cnnstudio.core.imaging import fit_to_shape

    return np.stack([fit_to_shape(np.asarray(im), tuple(shape)) for im in images])


def realness(model, images) -> np.ndarray:
    """D's probability that each image (uint8, any size: fitted to the model's) is real."""
    x = _fit(images, model.image_shape).astype(np.float32)
    return np.asarray(model(x, training=False), dtype=np.float64).reshape(len(x))


def class_probabilities(model, images) -> np.ndarray | None:
    """Class probabilities from a discriminator that has class logits (``model.classify``,
    the semi-supervised GAN), else None."""
    classify = getattr(model, "classify", None)
    if classify is None:
        return None
    x = _fit(images, model.image_shape).astype(np.float32)
    return np.asarray(classify(x), dtype=np.float64)


# -- diversity and mode collapse ---------------------------------------------------------
def diversity(images) -> float:
    """Mean pairwise RMS distance between images (pixels 0..1); 0 = all identical."""
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1) / 255.0
    n = len(x)
    if n < 2:
        return 0.0
    sq = np.sum(x * x, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0) / x.shape[1]
    upper = np.triu_indices(n, k=1)
    return float(np.mean(np.sqrt(d2[upper])))


def mode_collapse(score: float, real: float | None, epoch: int) -> str | None:
    """A warning sentence when the grid looks collapsed (see the module docstring), else None."""
    if not real or epoch < COLLAPSE_FROM_EPOCH or score >= COLLAPSE_RATIO * real:
        return None
    return (f"Possible mode collapse: the samples' diversity is {score:.3f}, "
            f"{score / real:.0%} of real images' {real:.3f} (warning below "
            f"{COLLAPSE_RATIO:.0%}). G may be drawing few distinct images.")


# -- storage -----------------------------------------------------------------------------------
class GridStore(EpochStore):
    """Reads (and writes) the per-epoch grids of a run directory."""
    PREFIX, WHAT = "gan-", "sample grid"

    def meta(self) -> dict:
        return self.read_json("gan.json")

    def latent(self) -> np.ndarray | None:
        try:
            with np.load(self.folder / "gan-latent.npz") as data:
                return data["z"]
        except FileNotFoundError:
            return None

    def load(self, epoch: int) -> GridFrame:
        path = self.existing(epoch)
        with np.load(path) as data:
            return GridFrame(epoch, data["images"], float(data["diversity"]), path=str(path))

    def write_latent(self, z, meta: dict) -> None:
        save_npz(self.folder / "gan-latent.npz", z=np.asarray(z, np.float32))
        write_json(self.folder / "gan.json", meta)

    def write(self, frame: GridFrame) -> Path:
        path = self.path(frame.epoch)
        save_npz(path, images=np.asarray(frame.images, np.uint8),
                  diversity=np.float32(frame.diversity))
        return path


class GridRecorder:
    """Epoch hook ``recorder(model, epoch)``: G(fixed z) → gan-epoch-NNNN.npz + ProbeReady.

    The fixed points are made once per run (from the run's seed) and read back on resume,
    so a resumed run keeps drawing the same 64 latent points.
    """

    def __init__(self, run_dir, seed: int, real_images=None, sink=None, count: int = GRID ** 2):
        self.store = GridStore(run_dir)
        self.seed, self.count, self.sink = int(seed), count, sink
        self.real_diversity = None if real_images is None else diversity(real_images[:count])
        self.z: np.ndarray | None = None
        self._lock = threading.Lock()    # the live grid (training thread) and the epoch
                                         # hook (writer thread) may both ask first

    def latent(self, model) -> np.ndarray:
        with self._lock:
            return self._latent(model)

    def _latent(self, model) -> np.ndarray:
        if self.z is None:
            stored = self.store.latent()
            if stored is not None and stored.shape == (self.count, model.latent_size):
                self.z = stored
            else:
                self.z = fixed_latent(self.seed, self.count, model.latent_size)
                self.store.write_latent(self.z, {
                    "version": 1, "grid": GRID, "count": self.count, "seed": self.seed,
                    "latent_size": int(model.latent_size),
                    "image_shape": [int(s) for s in model.image_shape],
                    "real_diversity": self.real_diversity,
                    "diversity": "mean pairwise RMS pixel distance (0..1) of the grid",
                    "collapse_ratio": COLLAPSE_RATIO})
        return self.z

    def frame(self, model, epoch: int, step: int | None = None) -> GridFrame:
        images = samples(model, self.latent(model))
        return GridFrame(epoch, images, diversity(images), step)

    def emit(self, frame: GridFrame) -> None:
        if self.sink is not None:
            from cnnstudio.core.training.events import ProbeReady

            self.sink(ProbeReady("gan-grid", frame.epoch, frame.path, payload=frame))

    def __call__(self, model, epoch: int) -> Path:
        frame = self.frame(model, epoch)
        frame.path = str(self.store.write(frame))
        self.emit(frame)
        return Path(frame.path)


# -- animation -----------------------------------------------------------------------------
def export_gif(run_dir, out_path, duration_ms: int = 300, scale: int = 2) -> int:
    """The per-epoch grids as an animated GIF (one frame per epoch); returns the frame count."""
    from PIL import Image

    store = GridStore(run_dir)
    epochs = store.epochs()
    if not epochs:
        raise StudioError(f"run {Path(run_dir).name} has no stored sample grids to animate")
    frames = []
    for epoch in epochs:
        grid = tile_grid(store.load(epoch).images)
        image = Image.fromarray(grid[..., 0] if grid.shape[2] == 1 else grid[..., :3])
        if scale > 1:
            image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
        frames.append(image.convert("P") if image.mode == "RGB" else image)
    with atomic_path(out_path) as temp:       # whole, or no file (a full disk: WriteFailed)
        frames[0].save(temp, save_all=True, append_images=frames[1:], duration=duration_ms,
                       loop=0, optimize=False, disposal=1)
    return len(frames)


def save_png(grid: np.ndarray, out_path) -> Path:
    """Written to a temporary name, then renamed: a full disk leaves no half (or 0-byte) PNG
    under the name asked for, and raises WriteFailed (one line: the file, the reason)."""
    from PIL import Image

    out_path = Path(out_path)
    grid = np.asarray(grid, np.uint8)
    with atomic_path(out_path) as temp:
        Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(temp)
    return out_path
