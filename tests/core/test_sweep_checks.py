"""A sweep is checked whole before any trial trains (issue 23): every trial's config, model
options included, and the metric's name against what such a run logs."""

from __future__ import annotations

import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.errors import ConfigError
from cnnstudio.core.sweeps import spec


def _base(model="mlp", options=None) -> dict:
    return RunConfig(DatasetConfig("digits", {"size": 8}), ModelConfig(model, options or {}),
                     TrainConfig(epochs=1)).to_dict()


def test_a_misspelt_metric_is_named_before_anything_trains():
    with pytest.raises(ConfigError, match=r"^metric 'val_acuracy' is not something a mlp run "
                                          r"logs \(did you mean 'val_accuracy'\?\) — known: "
                                          r"loss, val_loss, accuracy, val_accuracy$"):
        spec.parse({"base": _base(), "metric": "val_acuracy",
                    "grid": {"training.learning_rate": [0.01, 0.001]}})


def test_a_gan_sweep_ranks_by_what_a_gan_logs():
    with pytest.raises(ConfigError, match="not something a dcgan run logs .* known: d_loss, "
                                          "g_loss, d_real, d_fake"):
        spec.parse({"base": _base("dcgan"), "metric": "val_accuracy",
                    "grid": {"training.learning_rate": [0.01, 0.001]}})
    sweep = spec.parse({"base": _base("dcgan"), "metric": "g_loss", "mode": "min",
                        "grid": {"training.learning_rate": [0.01, 0.001]}})
    assert len(sweep.trials) == 2


def test_a_trials_model_option_out_of_range_is_named_with_the_trial():
    with pytest.raises(ConfigError, match=r"^sweep trial 2 \(\{'model.options.units': 0\}\): "
                                          r"mlp: units must be an integer between 1 and "
                                          r"8,192, got 0$"):
        spec.parse({"base": _base(), "metric": "val_accuracy",
                    "grid": {"model.options.units": [16, 0]}})
