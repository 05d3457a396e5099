"""What the autoencoder panel shows, numpy in and numpy out: the compression figure, PSNR,
a 2-D map of the codes (PCA), nearest neighbours in code space (image search) and its
precision, reconstructions of single images, and the reader of what a run stored.

Layout under ``run_dir/probes`` (written by the task's probe hook, autoencoder_task.py):

    autoencoder-probes.npz        images, labels, noisy (uint8): the fixed probe images and
                                  their fixed noisy versions (denoising runs), written once
    autoencoder-epoch-NNNN.npz    reconstructions (uint8) and codes (float16) of the probes
    codes.npz                     codes (float32, flattened), labels and images (uint8) of the
                                  test set (up to MAX_CODES), rewritten each epoch and at the end
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.probes.store import EpochStore, save_npz  # noqa: F401  (the task writes)

PROBES_FILE = "autoencoder-probes.npz"
CODES_FILE = "codes.npz"
MAX_CODES = 2000         # test images kept for the map and the search: enough, and small on disk


# -- figures ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Compression:
    input_numbers: int
    code_numbers: int

    @property
    def ratio(self) -> float:
        return self.code_numbers / self.input_numbers

    def text(self, input_shape, code_shape) -> str:
        dims = lambda s: "×".join(str(int(d)) for d in s)   # noqa: E731
        return (f"{dims(input_shape)} = {self.input_numbers:,} numbers → code "
                f"{dims(code_shape)} = {self.code_numbers:,} numbers "
                f"({self.ratio:.1%} of the input, {1 / self.ratio:.1f}× smaller)")


def compression(input_shape, code_shape) -> Compression:
    return Compression(int(np.prod(input_shape)), int(np.prod(code_shape)))


def to_unit(images) -> np.ndarray:
    """uint8 0..255 → float32 [0, 1]; floats are taken as already in [0, 1]."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return images.astype(np.float32)


def to_uint8(unit) -> np.ndarray:
    return np.round(np.clip(np.asarray(unit, np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)


def psnr(reference, image, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, 10·log10(peak² / MSE); inf for identical images."""
    reference, image = np.asarray(reference, np.float64), np.asarray(image, np.float64)
    if reference.shape != image.shape:
        raise StudioError(f"psnr needs images of one shape, got {reference.shape} and "
                          f"{image.shape}")
    mse = float(np.mean((reference - image) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(peak ** 2 / mse))


def psnr_per_image(reference, images, peak: float = 1.0) -> np.ndarray:
    """PSNR of each image of a batch (N, …) against its reference."""
    reference, images = np.asarray(reference, np.float64), np.asarray(images, np.float64)
    mse = ((reference - images) ** 2).reshape(len(reference), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(peak ** 2 / mse)


def add_noise(unit, factor: float, seed: int = 0) -> np.ndarray:
    """The book's corruption on [0, 1] images: + factor · N(0, 1), clipped to [0, 1]."""
    unit = np.asarray(unit, np.float32)
    noise = np.random.default_rng(seed).standard_normal(unit.shape).astype(np.float32)
    return np.clip(unit + factor * noise, 0.0, 1.0)


# -- code space ---------------------------------------------------------------------------
def pca_2d(codes) -> tuple[np.ndarray, np.ndarray]:
    """Project codes (N, D) on their first two principal axes: (N, 2) points and the share of
    the variance each axis explains. Signs are fixed (largest loading positive) so the map
    does not flip between epochs for no reason."""
    x = np.asarray(codes, np.float64).reshape(len(codes), -1)
    if len(x) < 2:
        raise StudioError("a code map needs at least two codes")
    x = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    axes = np.zeros((2, x.shape[1]))
    axes[:min(2, len(vt))] = vt[:2]
    for axis in axes:
        if axis.any() and axis[np.argmax(np.abs(axis))] < 0:
            axis *= -1
    total = float((s ** 2).sum()) or 1.0
    explained = np.zeros(2)
    explained[:min(2, len(s))] = (s[:2] ** 2) / total
    return (x @ axes.T).astype(np.float32), explained


def normalise(codes) -> np.ndarray:
    """Rows scaled to unit length: distances then compare directions (cosine), not sizes."""
    x = np.asarray(codes, np.float32).reshape(len(codes), -1)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def nearest(codes, query, k: int = 10, exclude: int | None = None):
    """The ``k`` codes closest to ``query`` (Euclidean): (indices, distances), nearest first.
    ``exclude``: an index to leave out (the query itself when it is one of the codes)."""
    x = np.asarray(codes, np.float64).reshape(len(codes), -1)
    q = np.asarray(query, np.float64).reshape(-1)
    if q.shape[0] != x.shape[1]:
        raise StudioError(f"the query has {q.shape[0]} numbers, the codes {x.shape[1]}")
    distances = np.sqrt(((x - q) ** 2).sum(axis=1))
    if exclude is not None:
        distances[exclude] = np.inf
    k = min(k, len(x) - (exclude is not None))
    order = np.argsort(distances, kind="stable")[:k]
    return order, distances[order]


def precision_at_k(vectors, labels, k: int = 10, chunk: int = 1024) -> float:
    """Over every item: the share of its ``k`` nearest others (Euclidean) that have its label."""
    x = np.asarray(vectors, np.float32).reshape(len(vectors), -1)
    labels = np.asarray(labels)
    if len(x) <= k:
        raise StudioError(f"precision@{k} needs more than {k} items, got {len(x)}")
    squares = (x.astype(np.float64) ** 2).sum(axis=1)
    hits = 0
    for start in range(0, len(x), chunk):
        block = x[start:start + chunk]
        d2 = squares[start:start + chunk, None] + squares[None, :] - 2.0 * (block @ x.T)
        d2[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf   # not itself
        picks = np.argpartition(d2, k, axis=1)[:, :k]
        hits += int((labels[picks] == labels[start:start + chunk, None]).sum())
    return hits / (len(x) * k)


def gallery_precision_at_k(queries, query_labels, gallery, gallery_labels, k: int = 10,
                           chunk: int = 512) -> float:
    """Like precision_at_k, but each query searches a separate gallery (e.g. test digits
    against the training set's codes): the share of its k nearest gallery items with its label."""
    q = np.asarray(queries, np.float32).reshape(len(queries), -1)
    g = np.asarray(gallery, np.float32).reshape(len(gallery), -1)
    query_labels, gallery_labels = np.asarray(query_labels), np.asarray(gallery_labels)
    if len(g) < k:
        raise StudioError(f"precision@{k} needs at least {k} gallery items, got {len(g)}")
    g_squares = (g.astype(np.float64) ** 2).sum(axis=1)
    hits = 0
    for start in range(0, len(q), chunk):
        block = q[start:start + chunk]
        d2 = g_squares[None, :] - 2.0 * (block @ g.T)      # |q|² is the same along a row
        picks = np.argpartition(d2, k - 1, axis=1)[:, :k]
        hits += int((gallery_labels[picks] == query_labels[start:start + chunk, None]).sum())
    return hits / (len(q) * k)


# -- a model at hand ----------------------------------------------------------------------
def encode(model, images, batch_size: int = 256) -> np.ndarray:
    """Codes of uint8 images (N, H, W, C), flattened to (N, D) float32."""
    out = [np.asarray(model.encoder(np.asarray(images[i:i + batch_size], np.float32),
                                    training=False))
           for i in range(0, len(images), batch_size)]
    codes = np.concatenate(out) if out else np.zeros((0, 0), np.float32)
    return codes.reshape(len(images), -1).astype(np.float32)


def decode_batch(model, pixels, batch_size: int = 256) -> np.ndarray:
    """Reconstructions ([0, 1] floats) of pixel batches given in 0..255."""
    out = [np.asarray(model(np.asarray(pixels[i:i + batch_size], np.float32), training=False))
           for i in range(0, len(pixels), batch_size)]
    return np.concatenate(out).astype(np.float32)


def reconstruct(model, image, seed: int = 0, stats: dict | None = None) -> dict:
    """One uint8 image (H, W, C) fitted to the model → its code and reconstruction, uint8;
    for a denoising model also the noisy version it is shown and what it makes of it.

    ``stats`` (the run's dataset.json ``image_stats``) brings a photo to the training
    images' form first, as a classifier's prediction does (an ink digit on paper becomes a
    light digit on black); ``steps`` says what was done."""
    from cnnstudio.core.photo_prep import adapt

    shape = tuple(int(d) for d in model.image_shape)
    clean, steps = adapt(np.asarray(image), stats, shape)
    out = {"input": clean, "steps": steps,
           "code": encode(model, clean[None])[0].reshape(model.code_shape),
           "reconstruction": to_uint8(decode_batch(model, clean[None])[0])}
    if getattr(model, "denoise", False):
        noisy = to_uint8(add_noise(to_unit(clean), model.noise_factor, seed))
        out["noisy"] = noisy
        out["denoised"] = to_uint8(decode_batch(model, noisy[None])[0])
    return out


# -- files ----------------------------------------------------------------------------------
def epoch_path(run_dir, epoch: int) -> Path:
    return AutoencoderStore(run_dir).path(epoch)


@dataclass
class EpochRecord:
    epoch: int
    reconstructions: np.ndarray      # uint8 (N, H, W, C)
    codes: np.ndarray                # float32 (N, h, w, c)


@dataclass
class CodeSet:
    codes: np.ndarray                # float32 (N, D)
    labels: np.ndarray               # int (N,)
    images: np.ndarray               # uint8 (N, H, W, C)
    code_shape: tuple[int, ...]
    epoch: int


class AutoencoderStore(EpochStore):
    """Reads an autoencoder run's probes: works during training and on a reopened run."""
    PREFIX, WHAT = "autoencoder-", "autoencoder probes"

    def probes(self) -> dict[str, np.ndarray]:
        """images, labels and (denoising runs) noisy: the fixed probe set."""
        path = self.folder / PROBES_FILE
        if not path.is_file():
            raise StudioError(f"no autoencoder probes in {self.folder.parent.name}")
        with np.load(path) as data:
            return {k: data[k] for k in data.files}

    def load(self, epoch: int) -> EpochRecord:
        with np.load(self.existing(epoch)) as data:
            return EpochRecord(epoch, data["reconstructions"], data["codes"].astype(np.float32))

    def codes(self) -> CodeSet | None:
        path = self.folder / CODES_FILE
        if not path.is_file():
            return None
        with np.load(path) as data:
            return CodeSet(data["codes"].astype(np.float32), data["labels"], data["images"],
                           tuple(int(d) for d in data["code_shape"]), int(data["epoch"]))
