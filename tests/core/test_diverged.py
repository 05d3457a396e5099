"""A run whose loss or weights become NaN stops, says where and which number, keeps its last
good checkpoint and is marked failed; run files stay valid JSON (issue 23)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.core.training import engine
from cnnstudio.core.training.callbacks import Diverged, check_logs, check_weights
from cnnstudio.core.training.rundir import RunDir, finite


def test_a_non_finite_log_names_the_number_the_epoch_and_the_batch():
    check_logs({"loss": 0.5, "accuracy": 1.0}, 1, 1)          # fine: nothing raised
    with pytest.raises(Diverged, match=r"^loss became nan at epoch 2, batch 7: training "
                                       r"diverged"):
        check_logs({"loss": float("nan"), "accuracy": 0.1}, 2, 7)
    with pytest.raises(Diverged, match="g_loss became inf at epoch 1, batch 3"):
        check_logs({"d_loss": 0.7, "g_loss": np.float32(np.inf)}, 1, 3)


def test_run_files_never_hold_nan():
    data = {"best": {"val_loss": float("nan")}, "logs": [1.0, float("inf"), np.float32(2)]}
    text = json.dumps(finite(data))
    assert json.loads(text) == {"best": {"val_loss": None}, "logs": [1.0, None, 2.0]}


def _nan_net(input_shape, num_classes):
    """A classifier whose output is NaN from its first batch: a divergence on cue."""
    from cnnstudio.core.keras_setup import keras

    k = keras()
    inputs = k.Input(input_shape)
    x = k.layers.Flatten()(k.layers.Rescaling(1 / 255)(inputs))
    nan = k.initializers.Constant(float("nan"))
    return k.Model(inputs, k.layers.Dense(num_classes, activation="softmax",
                                          kernel_initializer=nan, name="predictions")(x))


@pytest.mark.slow
def test_a_diverging_run_fails_with_its_reason_and_saves_no_bad_checkpoint(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setitem(ARCHITECTURES._entries, "nan-net", Architecture(
        "nan-net", "NaN", "diverges at once", "tests", _nan_net))
    config = RunConfig(DatasetConfig("digits"), ModelConfig("nan-net"),
                       TrainConfig(epochs=2, batch_size=64, validation_split=0.0,
                                   steps_per_call=1))
    events = []
    result = engine.run(config, runs_root=tmp_path, sink=events.append)
    run = RunDir(result.run_dir)
    assert result.status == "failed" and run.status() == "failed"
    reason = run.read_json("status.json")["reason"]
    assert reason.startswith("loss became nan at epoch 1, batch 1: training diverged")
    assert reason.endswith("; no checkpoint was saved before it")
    assert [type(e).__name__ for e in events].count("RunFailed") == 1
    assert run.last_checkpoint() is None and run.model_path() is None    # nothing bad saved
    for path in run.path.rglob("*.json"):
        json.loads(path.read_text())                           # valid JSON, every file
    for line in (run.path / "metrics.jsonl").read_text().splitlines():
        json.loads(line)


def test_a_model_with_nan_weights_is_never_checkpointed():
    model = _nan_net((8, 8, 1), 10)
    with pytest.raises(Diverged, match=r"^640 weights became NaN or infinite by the end of "
                                       r"epoch 4"):
        check_weights(model, 4)
