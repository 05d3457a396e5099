"""MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100: the files ``keras.datasets`` uses.

The files are downloaded once, with progress events, into the same cache
layout ``keras.datasets.*.load_data()`` uses (``$KERAS_HOME/datasets``, default
``~/.keras/datasets``), so either tool finds what the other fetched. Reading is
done here rather than through ``load_data()`` because Keras re-downloads any
cached file whose hash it does not know, and we want offline use (and tests on
small files in the same format) to work. Offline, the error names the file to
place in the cache.
"""

from __future__ import annotations

import contextlib
import contextvars
import gzip
import hashlib
import os
import pickle
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.datasets.base import (
    LABEL_DECISIONS,
    ArraySplit,
    Dataset,
    DatasetSource,
    upscale_option,
)
from cnnstudio.core.errors import DataError
from cnnstudio.core.imaging import resize_batch
from cnnstudio.core.options import Int
from cnnstudio.core.training.events import Progress

KERAS_DATA = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def keras_cache_dir(subdir: str = "datasets") -> Path:
    """Keras's cache folder: ``datasets`` for keras.datasets, ``models`` for applications."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / subdir


@dataclass
class Download:
    """One file keras.datasets downloads: where from, its sha256, where Keras keeps it."""
    origin: str
    target: str                     # path under the cache dir
    sha256: str | None = None
    extract_to: str | None = None   # for archives: Keras's extraction folder
    subdir: str = "datasets"        # Keras's cache_subdir ("models" for weight files)


_PROGRESS: contextvars.ContextVar = contextvars.ContextVar("download_progress", default=None)


@contextlib.contextmanager
def progress_to(sink):
    """Downloads started inside this block, whose caller passed no progress callable,
    report to ``sink`` (lets a runner hear a model builder's weight download)."""
    token = _PROGRESS.set(sink)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def ensure(download: Download, progress=None, label: str = "") -> Path:
    """Return the cached file (or extraction folder), downloading it first if needed."""
    progress = progress or _PROGRESS.get() or (lambda event: None)
    label = label or Path(download.target).name
    cache = keras_cache_dir(download.subdir)
    final = cache / (download.extract_to or download.target)
    if final.exists():
        return final
    archive = cache / download.target
    if not archive.exists():
        _fetch(download, archive, progress, label)
    if download.extract_to:
        _extract(archive, final, label)
    return final


def _fetch(download: Download, target: Path, progress, label: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")

    def hook(blocks, block_size, total):
        progress(Progress("download", min(blocks * block_size, max(total, 0)) / 1e6,
                          total / 1e6 if total > 0 else None,
                          f"downloading {label} (MB)"))

    try:
        urllib.request.urlretrieve(download.origin, partial, hook)
    except (urllib.error.URLError, OSError) as exc:
        partial.unlink(missing_ok=True)
        where = target.parent / (download.extract_to or target.name)
        raise DataError(
            f"cannot download {label} ({getattr(exc, 'reason', exc)}); offline, fetch "
            f"{download.origin} elsewhere and place it at {target}"
            + (f" (or its extracted contents in {where})" if download.extract_to else "")
        ) from None
    if download.sha256 and _sha256(partial) != download.sha256:
        partial.unlink(missing_ok=True)
        raise DataError(f"the download of {label} is corrupt (hash mismatch); try again")
    partial.replace(target)


def _extract(archive: Path, folder: Path, label: str) -> None:
    temp = folder.with_name(folder.name + ".partial")
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(temp, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"cannot unpack {archive} for {label}: {exc}") from None
    temp.replace(folder)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _ArraysOnly(pickle.Unpickler):
    """CIFAR batches are pickles: allow only what numpy arrays need, never arbitrary code."""
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")


def _cifar_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            raw = _ArraysOnly(f, encoding="bytes").load()
    except (OSError, pickle.UnpicklingError, EOFError) as exc:
        raise DataError(f"cannot read CIFAR file {path}: {exc}") from None
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in raw.items()}
    x = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return x, np.asarray(batch[label_key], dtype=np.int32)


def _idx_gz(path: Path, offset: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def _make(dataset_id, name, class_names, x_train, y_train, x_test, y_test, options, source):
    native = x_train.shape[1]
    size = upscale_option(options, native)
    shape = (size, size, x_train.shape[3])
    limit = options.get("limit")   # train on a subset: quick demos on slow machines
    if limit:
        x_train, y_train = x_train[:int(limit)], y_train[:int(limit)]
    return Dataset(
        id=dataset_id, name=name, class_names=class_names, input_shape=shape,
        train=ArraySplit(resize_batch(x_train, shape), y_train.astype(np.int32).ravel()),
        test=ArraySplit(resize_batch(x_test, shape), y_test.astype(np.int32).ravel()),
        description=source.description)


MNIST_FILE = Download(KERAS_DATA + "mnist.npz", "mnist.npz",
                      "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")
FASHION_FILES = [Download(KERAS_DATA + name, f"fashion-mnist/{name}") for name in (
    "train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")]
CIFAR10_FILE = Download(
    "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "cifar-10-batches-py-target_archive",
    "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    extract_to="cifar-10-batches-py-target")
CIFAR100_FILE = Download(
    "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz", "cifar-100-python-target_archive",
    "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
    extract_to="cifar-100-python-target")

FASHION_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot"]
CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                 "ship", "truck"]


def _load_mnist(options, progress):
    path = ensure(MNIST_FILE, progress, "MNIST")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = [f[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"cannot read {path}: {exc}; delete it to download again") from None
    x_train, y_train, x_test, y_test = arrays
    return _make("mnist", "MNIST", [str(i) for i in range(10)], x_train[..., None], y_train,
                 x_test[..., None], y_test, options, MNIST)


def _load_fashion(options, progress):
    paths = [ensure(d, progress, "Fashion-MNIST") for d in FASHION_FILES]
    y_train, y_test = _idx_gz(paths[0], 8), _idx_gz(paths[2], 8)
    x_train = _idx_gz(paths[1], 16).reshape(len(y_train), 28, 28, 1)
    x_test = _idx_gz(paths[3], 16).reshape(len(y_test), 28, 28, 1)
    return _make("fashion-mnist", "Fashion-MNIST", FASHION_NAMES, x_train, y_train,
                 x_test, y_test, options, FASHION)


def _load_cifar10(options, progress):
    root = ensure(CIFAR10_FILE, progress, "CIFAR-10") / "cifar-10-batches-py"
    parts = [_cifar_batch(root / f"data_batch_{i}", "labels") for i in range(1, 6)]
    x_test, y_test = _cifar_batch(root / "test_batch", "labels")
    return _make("cifar10", "CIFAR-10", CIFAR10_NAMES, np.concatenate([p[0] for p in parts]),
                 np.concatenate([p[1] for p in parts]), x_test, y_test, options, CIFAR10)


def _cifar100_names(root: Path) -> list[str]:
    meta = root / "meta"
    if meta.exists():
        with open(meta, "rb") as f:
            raw = _ArraysOnly(f, encoding="bytes").load()
        names = raw.get(b"fine_label_names") or raw.get("fine_label_names")
        if names:
            return [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    return [f"class {i}" for i in range(100)]


def _load_cifar100(options, progress):
    root = ensure(CIFAR100_FILE, progress, "CIFAR-100") / "cifar-100-python"
    x_train, y_train = _cifar_batch(root / "train", "fine_labels")
    x_test, y_test = _cifar_batch(root / "test", "fine_labels")
    return _make("cifar100", "CIFAR-100", _cifar100_names(root), x_train, y_train,
                 x_test, y_test, options, CIFAR100)


def _size_limit(native: int) -> tuple:
    return (Int("size", None, native, 512, "upscale to size×size", unit="px"),
            Int("limit", None, 1, 10_000_000, "use only the first N training images",
                step=1000), LABEL_DECISIONS)


_MNIST_OPTIONS = _size_limit(28)
MNIST = DatasetSource(
    "mnist", "MNIST (70,000 digits, download 11 MB)",
    "The full MNIST set via keras.datasets: 60,000 train / 10,000 test, 28×28 grey.",
    (28, 28, 1), [str(i) for i in range(10)], _load_mnist, True, _MNIST_OPTIONS)
FASHION = DatasetSource(
    "fashion-mnist", "Fashion-MNIST (download 30 MB)",
    "Zalando's clothing images via keras.datasets: 60,000 train / 10,000 test, 28×28 grey.",
    (28, 28, 1), FASHION_NAMES, _load_fashion, True, _MNIST_OPTIONS)
CIFAR10 = DatasetSource(
    "cifar10", "CIFAR-10 (download 163 MB)",
    "60,000 32×32 colour images in 10 classes via keras.datasets (book chapter 2).",
    (32, 32, 3), CIFAR10_NAMES, _load_cifar10, True, _size_limit(32))
CIFAR100 = DatasetSource(
    "cifar100", "CIFAR-100 (download 161 MB)",
    "60,000 32×32 colour images in 100 fine classes via keras.datasets.",
    (32, 32, 3), None, _load_cifar100, True, _size_limit(32))
