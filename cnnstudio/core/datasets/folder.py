"""Image folders: one sub-folder per class, as in the book's Dogs-vs-Cats and BelgiumTS sets.

Layouts understood:
  root/<class>/*.jpg                      → a fixed split (by file name hash) gives the test set
  root/{Training,Testing}/<class>/*.ppm   → BelgiumTS; also train/test, training/testing, train/val
  root/Final_Training/Images/<class>/*.ppm + Final_Test/Images/*.ppm with GT-*.csv → GTSRB
Images of any size and colour mode are fitted to ``image_size`` × ``image_size``
× ``channels``. Small sets are read into memory once; large ones stay on disk
and are read batch by batch. Unreadable files are skipped and named, never fatal.
"""

from __future__ import annotations

import csv
import zlib
from pathlib import Path

import numpy as np

from cnnstudio.core.datasets.base import (
    LABEL_DECISIONS,
    ArraySplit,
    Dataset,
    DatasetSource,
    FileSplit,
)
from cnnstudio.core.errors import DataError, ImageError
from cnnstudio.core.imaging import is_image_name, read_image
from cnnstudio.core.options import Bool, Choice, Float, Int, Text
from cnnstudio.core.training.events import Progress

SPLIT_NAMES = [("training", "testing"), ("train", "test"), ("train", "val"), ("train", "validation"),
               ("final_training", "final_test")]
IN_MEMORY_BYTES = 768 * 2**20   # above this the images are streamed from disk


def _subdir(root: Path, name: str) -> Path | None:
    for child in root.iterdir():
        if child.is_dir() and child.name.lower() == name:
            return child
    return None


def _unwrap(folder: Path) -> Path:
    """Step into lone wrapper folders (GTSRB's Final_Training/Images) that hold only folders."""
    for _ in range(3):
        children = [p for p in folder.iterdir() if not p.name.startswith(".")]
        dirs = [p for p in children if p.is_dir()]
        if len(dirs) != 1 or any(is_image_name(p) for p in children):
            break
        inner = [p for p in dirs[0].iterdir() if not p.name.startswith(".")]
        if not any(p.is_dir() for p in inner):   # a lone class folder, not a wrapper
            break
        folder = dirs[0]
    return folder


def _csv_labelled(folder: Path, names: list[str]) -> dict[str, list[Path]] | None:
    """A flat test folder labelled by a CSV with Filename and ClassId columns (GTSRB's GT-*.csv)."""
    images = {p.name: p for p in folder.iterdir() if p.is_file() and is_image_name(p)}
    if not images:
        return None
    by_number = {int(n): n for n in names if n.isdigit()}
    for table in sorted(folder.glob("*.csv")):
        text = table.read_text(encoding="utf-8", errors="replace")
        rows = list(csv.DictReader(text.splitlines(), delimiter=";" if ";" in text else ","))
        if not rows or not {"Filename", "ClassId"} <= set(rows[0]):
            continue
        found: dict[str, list[Path]] = {n: [] for n in names}
        for row in rows:
            name = row["ClassId"] if row["ClassId"] in found else \
                by_number.get(int(row["ClassId"])) if row["ClassId"].strip().isdigit() else None
            if name is not None and row["Filename"] in images:
                found[name].append(images[row["Filename"]])
        return {n: sorted(v) for n, v in found.items()}
    return None


def _class_files(folder: Path) -> dict[str, list[Path]]:
    classes = {}
    for child in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        classes[child.name] = sorted(
            p for p in child.rglob("*") if p.is_file() and is_image_name(p)
            and not p.name.startswith("."))
    return classes


def scan(root: Path) -> tuple[list[str], dict[str, list[Path]], dict[str, list[Path]] | None]:
    """Find class names and files; raise DataError with the reason when the layout is wrong."""
    if not root.is_dir():
        raise DataError(f"dataset folder not found: {root}")
    train_dir, test_dir = root, None
    for train_name, test_name in SPLIT_NAMES:
        tr, te = _subdir(root, train_name), _subdir(root, test_name)
        if tr and te:
            train_dir, test_dir = _unwrap(tr), _unwrap(te)
            break
    train_dir = _unwrap(train_dir)
    train = {k: v for k, v in _class_files(train_dir).items()}
    if not any(train.values()):
        raise DataError(
            f"no images found in {root}: expected one sub-folder per class holding "
            ".png/.jpg/.ppm/.bmp/.tif files (e.g. cats/ and dogs/)")
    empty = [name for name, files in train.items() if not files]
    if empty:
        raise DataError(f"class folder '{empty[0]}' in {train_dir} has no images")
    if len(train) < 2:
        raise DataError(f"only one class ('{next(iter(train))}') in {train_dir}: "
                        "a classifier needs at least two class folders")
    test = None
    if test_dir is not None:
        flat = [test_dir, *(p for p in test_dir.iterdir() if p.is_dir())][:2]   # or its Images/
        labelled = [t for t in (_csv_labelled(f, list(train)) for f in flat) if t]
        test = labelled[0] if labelled else _class_files(test_dir)
        unknown = sorted(set(test) - set(train))
        if unknown:
            raise DataError(f"test folder has class '{unknown[0]}' that the training folder lacks")
    return list(train), train, test


def _hash_split(files: dict[str, list[Path]], root: Path, test_fraction: float):
    """Split by a hash of each file's path: stable across runs, machines and added files."""
    train, test = {}, {}
    for name, paths in files.items():
        keyed = [(zlib.crc32(str(p.relative_to(root)).encode()) % 1000, p) for p in paths]
        cut = int(test_fraction * 1000)
        test[name] = [p for h, p in keyed if h < cut]
        train[name] = [p for h, p in keyed if h >= cut]
        if not train[name]:   # tiny class: keep at least one image for training
            train[name], test[name] = test[name][:1], test[name][1:]
    return train, test


def _detect_channels(paths: list[Path]) -> int:
    for path in paths[:: max(1, len(paths) // 24)][:24]:
        try:
            image = read_image(path)
        except ImageError:
            continue
        if image.shape[2] == 3 and not (np.array_equal(image[..., 0], image[..., 1])
                                        and np.array_equal(image[..., 1], image[..., 2])):
            return 3
    return 1


def _to_split(files: dict[str, list[Path]], names: list[str], shape, stream: bool, progress,
              skipped: list) -> ArraySplit | FileSplit:
    paths = [p for name in names for p in files.get(name, [])]
    labels = np.asarray([i for i, name in enumerate(names) for _ in files.get(name, [])], np.int32)
    split = FileSplit(paths, labels, shape)
    if stream or not paths:
        return split
    xs, ys, kept = [], [], []
    step = 256
    for start in range(0, len(paths), step):
        x, y, bad = split.images(range(start, min(start + step, len(paths))))
        xs.append(x)
        ys.append(y)
        skipped.extend(bad)
        unread = {path for path, _ in bad}
        kept.extend(p for p in paths[start:start + step] if str(p) not in unread)
        progress(Progress("load", min(start + step, len(paths)), len(paths), "reading images"))
    return ArraySplit(np.concatenate(xs), np.concatenate(ys), paths=kept)


def load_folder(options, progress) -> Dataset:
    path = options.get("path")
    if not path:
        raise DataError("the folder dataset needs a path (e.g. --dataset ~/data/dogs-vs-cats)")
    root = Path(path).expanduser()
    size = options.get("image_size", 64)
    if not isinstance(size, int) or isinstance(size, bool) or not 8 <= size <= 512:
        raise DataError(f"image_size must be an integer between 8 and 512, got {size!r}")
    fraction = options.get("test_fraction", 0.2)
    if not isinstance(fraction, int | float) or not 0 < fraction < 0.9:
        raise DataError(f"test_fraction must be between 0 and 0.9, got {fraction!r}")
    names, train_files, test_files = scan(root)
    if test_files is None:
        train_files, test_files = _hash_split(train_files, root, float(fraction))
    all_train = [p for name in names for p in train_files[name]]
    channels = options.get("channels") or _detect_channels(all_train)
    if channels not in (1, 3):
        raise DataError(f"channels must be 1 or 3, got {channels!r}")
    shape = (size, size, channels)
    total = len(all_train) + sum(len(v) for v in test_files.values())
    stream = bool(options.get("stream", total * size * size * channels > IN_MEMORY_BYTES))
    skipped: list[tuple[str, str]] = []
    train = _to_split(train_files, names, shape, stream, progress, skipped)
    test = _to_split(test_files, names, shape, stream, progress, skipped)
    if len(train) == 0:
        raise DataError(f"none of the images in {root} could be read")
    return Dataset(id="folder", name=root.name, class_names=names, input_shape=shape,
                   train=train, test=test, skipped=skipped,
                   description=f"Image folder {root} ({total} files, {len(names)} classes)")


def class_balance(counts: list[int], class_names: list[str]) -> dict:
    """How even the classes are: the studio's class-balance view and a warning when skewed."""
    counts = [int(c) for c in counts]
    present = [c for c in counts if c > 0]
    ratio = max(present) / min(present) if present else 0.0
    smallest = class_names[counts.index(min(counts))] if counts else ""
    largest = class_names[counts.index(max(counts))] if counts else ""
    return {"counts": dict(zip(class_names, counts, strict=True)), "min": min(counts, default=0),
            "max": max(counts, default=0), "imbalance": round(ratio, 2),
            "smallest": smallest, "largest": largest,
            "warning": (f"classes are unbalanced: '{largest}' has {ratio:.1f}× the images of "
                        f"'{smallest}'; accuracy alone will flatter the model"
                        if ratio >= 3 else "")}


FOLDER = DatasetSource(
    id="folder", name="Image folder (one sub-folder per class)",
    description="Your own images: one sub-folder per class (Dogs-vs-Cats, BelgiumTS, GTSRB…).",
    input_shape=None, class_names=None, load=load_folder,
    specs=(Text("path", None, "the folder", hidden=True),
           Int("image_size", None, 8, 512, "side of the square input (default 64)", step=8,
               unit="px"),
           Choice("channels", None, (1, 3), "1 or 3 (default: detected)"),
           Float("test_fraction", None, 0.05, 0.85, "share held out when there is no test "
                 "folder (default 0.2)"),
           Bool("stream", None, "read images from disk batch by batch (default: when the "
                "images would not fit in memory)"), LABEL_DECISIONS))
