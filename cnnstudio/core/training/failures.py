"""Faults a user can act on, told in one line: a read-only runs folder, a full disk, OOM.

``ensure_writable`` runs before a run starts or resumes, so a folder that cannot
take a file fails at once, before the dataset loads. ``explain`` turns an
exception raised mid-training into the RunFailed reason (CLI and studio show
the same line): the cause, and what to do, with the run kept for a resume.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from cnnstudio.core.errors import StudioError

DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
READ_ONLY = {errno.EACCES, errno.EPERM, errno.EROFS}
# Class names, so that no backend has to be imported to recognise its OOM error:
# TensorFlow's ResourceExhaustedError, PyTorch's OutOfMemoryError.
OOM_CLASSES = {"ResourceExhaustedError", "OutOfMemoryError"}
OOM_WORDS = ("RESOURCE_EXHAUSTED", "OOM when allocating", "out of memory")


def ensure_writable(folder: str | Path, what: str = "runs folder") -> Path:
    """Raise a StudioError unless a file can be created in ``folder`` (or where it will be).

    A real write, not the mode bits: those miss read-only mounts, ACLs and quotas.
    """
    folder = Path(folder).expanduser()
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent          # a new runs folder is made inside this one
    if not existing.is_dir():
        raise StudioError(f"the {what} {folder} is not a folder ({existing} is a file)")
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=existing)
    except OSError as exc:
        reason = "it is read-only" if exc.errno in READ_ONLY else (
            "the disk is full" if exc.errno in DISK_FULL else exc.strerror or str(exc))
        advice = "make it writable" + (", or set another one (CNNSTUDIO_RUNS)"
                                       if what == "runs folder" else "")
        raise StudioError(f"cannot write to the {what} {folder}: {reason}; {advice}") from exc
    os.close(fd)
    os.unlink(probe)
    return folder


def free_space(path: str | Path) -> str:
    """Free space on the disk holding ``path``, for a message ("12.3 MB free")."""
    path = Path(path)
    while not path.exists() and path.parent != path:
        path = path.parent
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return "free space unknown"
    for unit in ("bytes", "KB", "MB", "GB"):
        if free < 1024 or unit == "GB":
            return f"{free:.0f} {unit} free" if unit == "bytes" else f"{free:.1f} {unit} free"
        free /= 1024
    return ""


def is_out_of_memory(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    text = str(exc)
    return bool(names & OOM_CLASSES) or any(word in text for word in OOM_WORDS)


def explain(exc: BaseException, run_dir: str | Path, batch_size: int | None = None,
            mixed_precision: bool = False, last_epoch: int = 0) -> str:
    """The one-line reason a run failed, with advice where the cause is known."""
    run_dir = Path(run_dir)
    kept = (f"the run is kept: resume it from its last checkpoint (epoch {last_epoch})"
            if last_epoch else "the run is kept: resume it to start again")
    if isinstance(exc, OSError) and exc.errno in DISK_FULL:
        where = Path(exc.filename).parent if exc.filename else run_dir
        return (f"disk full while writing to {where} ({free_space(where)}); free some space, "
                f"then {kept}")
    if isinstance(exc, OSError) and exc.errno in READ_ONLY:
        where = Path(exc.filename).parent if exc.filename else run_dir
        return f"cannot write to {where}: the folder became read-only; make it writable, then {kept}"
    if is_out_of_memory(exc):
        advice = []
        if batch_size and batch_size > 1:
            advice.append(f"a smaller batch size (e.g. {max(1, batch_size // 2)} instead of "
                          f"{batch_size})")
        if not mixed_precision:
            advice.append("mixed precision (it halves activation memory on the GPU)")
        advice.append("smaller images or a smaller model")
        return (f"out of memory on the device ({type(exc).__name__}): try "
                f"{', or '.join(advice)}; {kept}")
    if isinstance(exc, MemoryError):
        return f"out of memory (MemoryError): try a smaller batch size or dataset; {kept}"
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if getattr(exc, "keeps_checkpoints", False):      # a diverged run: which epoch is good
        return first + (f"; the last good checkpoint, epoch {last_epoch}, is kept"
                        if last_epoch else "; no checkpoint was saved before it")
    return first if isinstance(exc, StudioError) else f"{type(exc).__name__}: {first}"
