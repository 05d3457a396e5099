"""The Runs panel's Best column says by what a run was best: a GAN's lowest G loss, a
classifier's validation accuracy."""

from __future__ import annotations

import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui.panels.runs_panel import _best


def _run(tmp_path, model_id, logs) -> RunDir:
    config = RunConfig(DatasetConfig("mnist-5k"), ModelConfig(model_id), TrainConfig(epochs=3))
    run = RunDir.create(config, root=tmp_path)
    for epoch, values in enumerate(logs, start=1):
        run.record({"event": "epoch_end", "epoch": epoch, "logs": values})
    run.close()
    return run


@pytest.mark.slow
def test_a_gan_is_ranked_by_its_lowest_g_loss_and_says_so(tmp_path):
    run = _run(tmp_path, "dcgan", [{"g_loss": 1.5, "d_loss": 0.6}, {"g_loss": 1.331, "d_loss": 0.7}])
    assert _best(run, "dcgan") == "lowest G loss 1.331"


@pytest.mark.slow
def test_a_classifier_shows_its_best_validation_accuracy(tmp_path):
    run = _run(tmp_path, "lenet5", [{"val_accuracy": 0.9}, {"val_accuracy": 0.973}])
    assert _best(run, "lenet5") == "val accuracy 97.3%"
