"""SVHN, the Street View House Numbers (cropped digits): 32×32 colour, 10 classes.

``train_32x32.mat`` (73,257 digits, 182 MB) and ``test_32x32.mat`` (26,032, 64 MB) come
from the dataset's official site through the studio's downloader (progress events, the
Keras cache folder ``$KERAS_HOME/datasets/svhn``, and offline a message naming both files,
their URLs and where to place them). They are MATLAB files read with scipy.io:
``X`` is (32, 32, 3, N) and ``y`` (N, 1) with label 10 for the digit 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnstudio.core.datasets.base import DatasetSource
from cnnstudio.core.datasets.keras_downloads import (
    Download,
    _make,
    _size_limit,
    ensure,
    keras_cache_dir,
)
from cnnstudio.core.errors import DataError

SVHN_URL = "http://ufldl.stanford.edu/housenumbers/"
# The site publishes no checksums (torchvision checks MD5s; the downloader knows SHA-256 only).
SVHN_FILES = [Download(SVHN_URL + name, f"svhn/{name}")
              for name in ("train_32x32.mat", "test_32x32.mat")]
DIGIT_NAMES = [str(i) for i in range(10)]


def read_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 32, 32, 3), labels int32 (N,) with 10 → 0) from one SVHN .mat file."""
    from scipy.io import loadmat

    try:
        data = loadmat(str(path), variable_names=("X", "y"))
        x, y = np.asarray(data["X"]), np.asarray(data["y"]).astype(np.int64).ravel()
    except (OSError, ValueError, KeyError, NotImplementedError) as exc:
        raise DataError(f"cannot read SVHN file {path}: {exc}; delete it to download "
                        "again") from None
    if x.ndim != 4 or x.shape[2] != 3 or x.shape[3] != len(y):
        raise DataError(f"SVHN file {path} holds X of shape {x.shape} and {len(y)} labels; "
                        "expected X (32, 32, 3, N) and N labels")
    if len(y) and (y.min() < 1 or y.max() > 10):
        raise DataError(f"SVHN file {path} has labels outside 1..10 ({y.min()}..{y.max()})")
    images = np.ascontiguousarray(np.transpose(x, (3, 0, 1, 2))).astype(np.uint8)
    return images, (y % 10).astype(np.int32)


def _fetch_all(progress) -> list[Path]:
    """Both files; offline, one DataError naming every missing file, its URL and its place."""
    try:
        return [ensure(d, progress, f"SVHN {Path(d.target).name}") for d in SVHN_FILES]
    except DataError as exc:
        missing = [d for d in SVHN_FILES if not (keras_cache_dir() / d.target).exists()]
        if len(missing) < 2:       # the message already names the one missing file
            raise
        rest = "; ".join(f"{d.origin} at {keras_cache_dir() / d.target}" for d in missing[1:])
        raise DataError(f"{exc}; likewise place {rest}") from None


def _load_svhn(options, progress):
    train_path, test_path = _fetch_all(progress)
    x_train, y_train = read_mat(train_path)
    x_test, y_test = read_mat(test_path)
    return _make("svhn", "SVHN (cropped digits)", DIGIT_NAMES, x_train, y_train, x_test, y_test,
                 options, SVHN)


SVHN = DatasetSource(
    "svhn", "SVHN house numbers (download 246 MB)",
    "Street View House Numbers, cropped 32×32 colour digits from the official site "
    f"({SVHN_URL}): 73,257 train / 26,032 test (book chapter 8).",
    (32, 32, 3), DIGIT_NAMES, _load_svhn, True,
    _size_limit(32))
