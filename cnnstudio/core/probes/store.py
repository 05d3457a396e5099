"""The per-epoch probe files every family records into ``run_dir/probes/``, so any run (live,
finished or reopened) can be replayed with the epoch slider.

Each family's store names its files ``<prefix>epoch-NNNN.npz`` and reads its own arrays;
what they share is here: the folder, listing the stored epochs, finding an epoch's file
(one clear message when it is missing), and atomic writes (a viewer never reads half a
file: written to a temporary name, then renamed, by ``cnnstudio.core.atomic``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from cnnstudio.core import atomic
from cnnstudio.core.atomic import atomic_path
from cnnstudio.core.errors import StudioError


class ProbesMissing(StudioError, FileNotFoundError):
    """No probes stored for that epoch: a one-line StudioError that callers expecting a
    missing file can also catch as one."""


def save_npz(path, **arrays) -> Path:
    """Compressed and atomic (``cnnstudio.core.atomic``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temp:
        np.savez_compressed(temp, **arrays)
    return path


def write_json(path, data) -> None:
    """Atomic, like ``save_npz``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_json(path, data)


def stored_epochs(folder: Path, pattern: re.Pattern) -> list[int]:
    """The epochs whose files (``pattern``'s first group) are in ``folder``, sorted."""
    if not folder.is_dir():
        return []
    found = (pattern.match(p.name) for p in folder.iterdir())
    return sorted(int(m.group(1)) for m in found if m)


class EpochStore:
    """A family's per-epoch probe files: ``<PREFIX>epoch-NNNN.npz`` in ``run_dir/probes``."""
    PREFIX = ""                 # "gan-" → gan-epoch-0003.npz
    WHAT = "probes"             # for "no <WHAT> stored for epoch N"

    def __init__(self, run_dir):
        self.folder = Path(run_dir) / "probes"
        self.pattern = re.compile(rf"^{re.escape(self.PREFIX)}epoch-(\d{{4,}})\.npz$")

    def epochs(self) -> list[int]:
        return stored_epochs(self.folder, self.pattern)

    def path(self, epoch: int) -> Path:
        return self.folder / f"{self.PREFIX}epoch-{int(epoch):04d}.npz"

    def existing(self, epoch: int) -> Path:
        """The epoch's file, or a StudioError saying none was stored."""
        path = self.path(epoch)
        if not path.is_file():
            raise ProbesMissing(f"no {self.WHAT} stored for epoch {epoch} ({path})")
        return path

    def read_json(self, name: str) -> dict:
        """A JSON file of the store, or {} when it is missing or half-written."""
        try:
            return json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
