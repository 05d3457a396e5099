"""The runs beside a run that a panel compares it with: same dataset, a given model (the
same one, by default), newest first. The pix2pix and CycleGAN tabs show the run without
the other loss; the multi-task tab its single-task baselines; the R-CNN story the other
detectors of the same data."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from cnnstudio.core.config import RunConfig
from cnnstudio.core.training.rundir import RunDir


def read_config(run_dir) -> RunConfig | None:
    """A run folder's config; None when it cannot be read (a half-written or foreign folder)."""
    try:
        return RunDir(run_dir).config()
    except Exception:                  # any unreadable folder is simply not a sibling
        return None


def sibling_runs(run_dir, models: Iterable[str] | None = None,
                 config: RunConfig | None = None) -> Iterator[tuple[RunDir, RunConfig]]:
    """(RunDir, config) of the other runs in ``run_dir``'s folder that trained one of
    ``models`` (default: ``run_dir``'s own model) on the same dataset, newest first. Nothing
    when ``run_dir``'s config cannot be read."""
    run_dir = Path(run_dir)
    config = config or read_config(run_dir)
    if config is None or not run_dir.parent.is_dir():
        return
    wanted = set(models) if models is not None else {config.model.id}
    for other in sorted(run_dir.parent.iterdir(), reverse=True):
        if other == run_dir or not (other / "config.json").is_file():
            continue
        theirs = read_config(other)
        if theirs is not None and theirs.model.id in wanted \
                and theirs.dataset.id == config.dataset.id:
            yield RunDir(other), theirs
