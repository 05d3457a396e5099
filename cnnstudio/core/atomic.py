"""Output files written whole or not at all: to a temporary name beside the target, then
renamed over it (a rename within one folder is atomic).

A full disk or a read-only folder half-way through a write leaves the previous file (or
none) under the name asked for, never a half or 0-byte file that looks valid, and the
temporary is removed. An OSError becomes ``WriteFailed``: one line naming the file and the
reason, a StudioError (the CLI prints ``cnnstudio: error: …``, exit 2) that is still an
OSError with its errno, so a run that fails on it is worded as before (failures.explain).

    with atomic_path(out / "model.tflite") as temp:      # any writer that takes a path
        library.write(temp)
    write_json(out / "metadata.json", meta)              # or the ready-made ones
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import StudioError
from cnnstudio.core.training.failures import DISK_FULL, READ_ONLY, free_space

_COUNTER = itertools.count()      # two writes of one target in one process: two temp names


class WriteFailed(StudioError, OSError):
    """An output file (or folder) could not be written; nothing was left under its name."""

    @classmethod
    def of(cls, path: str | Path, cause: OSError) -> WriteFailed:
        if isinstance(cause, WriteFailed) and cause.filename == str(path):
            return cause
        err = cls(cause.errno, cause.strerror or str(cause), str(path))
        err.message = f"cannot write {path}: {reason(cause, Path(path))}"
        return err

    def __str__(self) -> str:
        # OSError's own text is "[Errno 28] …: 'path'"; the user reads this line instead.
        return getattr(self, "message", None) or OSError.__str__(self)


def reason(exc: OSError, path: Path) -> str:
    """Why ``path`` could not be written, with what to do where that is known."""
    if exc.errno in DISK_FULL:
        return f"the disk is full ({free_space(path.parent)}); free some space and try again"
    if exc.errno in READ_ONLY:
        return f"the folder {path.parent} is not writable ({exc.strerror or exc})"
    return exc.strerror or str(exc) or type(exc).__name__


def temp_path(path: str | Path, tag: str = "tmp") -> Path:
    """A hidden sibling of ``path`` that keeps its suffix: Keras, NumPy and Pillow choose
    the format by it (and NumPy appends ``.npz`` to a name without it)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.{os.getpid()}-{next(_COUNTER)}.{tag}{path.suffix}")


@contextlib.contextmanager
def _staged(path: Path, finish) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; ``finish(temp, path)`` puts it in place when
    the block ends without an error. On any error it is removed; an OSError is raised again
    as WriteFailed."""
    temp = temp_path(path)
    try:
        yield temp
        finish(temp, path)
    except OSError as exc:
        _remove(temp)
        raise WriteFailed.of(path, exc) from exc
    except BaseException:
        _remove(temp)
        raise


def atomic_path(path: str | Path, fsync: bool = True):
    """A context manager: a temporary file path beside ``path``; when the block ends without
    an error, the file written there replaces ``path``."""
    def finish(temp: Path, target: Path) -> None:
        if fsync:       # a disk that fills up late (quota, NFS) says so here, not after
            _fsync(temp)
        os.replace(temp, target)

    return _staged(Path(path), finish)


def atomic_dir(path: str | Path, fsync: bool = True):
    """Like ``atomic_path`` for a folder a library writes whole (a TF SavedModel): a
    sibling folder's path (not created), then swapped in for ``path``."""
    def finish(temp: Path, target: Path) -> None:
        if fsync:
            sync(temp)
        swap_in(temp, target)

    return _staged(Path(path), finish)


def swap_in(src: str | Path, dst: str | Path) -> None:
    """Move the finished ``src`` (a file or folder) to ``dst``, replacing what is there.

    A folder cannot be renamed over another, so the old one is first renamed aside and
    deleted after: at every moment ``dst`` is the old export or the new one, whole."""
    src, dst = Path(src), Path(dst)
    if src.is_file() and not dst.is_dir():
        os.replace(src, dst)
        return
    old = None
    if dst.exists() or dst.is_symlink():
        old = temp_path(dst, "old")
        os.replace(dst, old)
    try:
        os.replace(src, dst)
    except OSError:
        if old is not None:
            os.replace(old, dst)         # put the previous one back
        raise
    if old is not None:
        _remove(old)


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as temp:
        temp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    return write_bytes(path, text.encode(encoding))


def write_json(path: str | Path, data: Any, indent: int | None = 1, **options) -> Path:
    """JSON, serialised first: a value json cannot write fails before any file is touched."""
    return write_text(path, json.dumps(data, indent=indent, **options))


def sync(path: str | Path) -> None:
    """Flush a written file, or every file in a written folder, to the disk."""
    path = Path(path)
    for file in (p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]:
        _fsync(file)


def _fsync(path: Path) -> None:
    if os.name == "nt":          # Windows: fsync needs a writable handle; rename is enough
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    """Best effort: a leftover we cannot delete must not hide the error that made it."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass
