"""The run to compare a run with in the Fool it tab: its sibling trained the other way.

    found = counterpart(run_dir)     # (RunDir, RunConfig) or None

Apart from ``adversarial_training`` because it reads run folders (``run_siblings``), which
``core.config`` — importing ``adversarial_training`` to check the option — must not.
"""

from __future__ import annotations

from cnnstudio.core.probes.adversarial_training import is_active
from cnnstudio.core.training.run_siblings import read_config, sibling_runs


def counterpart(run_dir):
    """(RunDir, RunConfig) of the newest sibling run trained the other way — with
    ``adversarial`` when ``run_dir`` was trained without it, or without when with — on the
    same dataset and model, options included (so both curves see the same test images),
    with a model saved; None when there is none."""
    config = read_config(run_dir)
    if config is None:
        return None
    mine = is_active(config.training.adversarial)
    for other, theirs in sibling_runs(run_dir, config=config):
        if (is_active(theirs.training.adversarial) != mine and theirs.model == config.model
                and theirs.dataset == config.dataset and other.model_path() is not None):
            return other, theirs
    return None
