"""Faults the fault tests inject: a read-only folder, a disk that fills up, a GPU out of memory.

Each one is real where it can be (a folder the OS refuses to write, a file that
stops taking bytes half-way), so the code under test meets the same errors as
on a user's machine.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from cnnstudio.core.training.control import RunControl
from cnnstudio.core.training.events import BatchEnd


def _writable(folder: Path) -> bool:
    try:
        fd, probe = tempfile.mkstemp(dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


@contextlib.contextmanager
def read_only(folder: Path):
    """Make ``folder`` and its sub-folders read-only for this process, then undo it.

    The mode bits do it for a user; root ignores them, so as root the folder gets a
    read-only bind mount (EROFS, as on a read-only disk). Skips where neither works.
    """
    folder = Path(folder)
    folders = [folder, *(p for p in folder.rglob("*") if p.is_dir())]
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in folders}
    mounted = False
    for p in folders:
        p.chmod(0o555)
    try:
        if _writable(folder) and os.geteuid() == 0:
            done = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)],
                                  capture_output=True)
            mounted = done.returncode == 0
        if _writable(folder):
            pytest.skip("cannot make a read-only folder here (root without mount rights)")
        yield folder
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)
        for p, mode in modes.items():
            p.chmod(mode)


class _Filling:
    """A file that takes ``room`` bytes, then fails as a full disk does (half a file on disk)."""

    def __init__(self, real, room: int):
        self._real, self._room = real, room

    def write(self, data):
        if len(data) > self._room:
            self._real.write(bytes(data[:self._room]))
            self._room = 0
            self._real.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._real.write(data)

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._real.close()


class FullDisk:
    """Installed as Keras's ``open`` in its saving module: after ``good`` checkpoints, each
    one written under ``folder`` runs out of space after ``room`` bytes, until ``free()``."""

    def __init__(self, folder: Path, good: int = 1, room: int = 4096):
        self.folder, self.good, self.room = Path(folder), good, room
        self.full = True
        self.failed = 0

    def open(self, file, mode="r", *args, **kwargs):
        real = builtins.open(file, mode, *args, **kwargs)
        if not self.full or not set(mode) & set("wax+") or self.folder not in Path(file).parents:
            return real
        if self.good > 0:
            self.good -= 1
            return real
        self.failed += 1
        return _Filling(real, self.room)

    def free(self) -> None:
        self.full = False


def install_full_disk(monkeypatch, folder: Path, good: int = 1) -> FullDisk:
    from keras.src.saving import saving_lib

    disk = FullDisk(folder, good)
    monkeypatch.setattr(saving_lib, "open", disk.open, raising=False)
    return disk


class OutOfMemoryAt(RunControl):
    """A run control that raises TensorFlow's OOM error in the batch boundary after
    (``epoch``, ``batch``): where a real one comes from, a step that did not fit.
    Pass ``sink`` as the run's sink; it hands the events on to ``then``."""

    def __init__(self, epoch: int = 2, batch: int = 2, then=None):
        super().__init__()
        self.at, self.then = (epoch, batch), then or (lambda event: None)
        self.armed = False

    def sink(self, event) -> None:
        if isinstance(event, BatchEnd) and (event.epoch, event.step) == self.at:
            self.armed = True
        self.then(event)

    def serve(self, model) -> None:
        if self.armed:
            import tensorflow as tf

            self.armed = False
            raise tf.errors.ResourceExhaustedError(
                None, None, "OOM when allocating tensor with shape[64,512,28,28] and type float "
                            "on /job:localhost/replica:0/task:0/device:GPU:0")
        super().serve(model)
