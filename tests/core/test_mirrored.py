"""Device "all": MirroredStrategy over two logical CPU devices trains a classifier, and resumes.

Logical devices must be set before TensorFlow starts, so the run happens in a fresh process.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SCRIPT = r"""
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.errors import StudioError
from cnnstudio.core.training import engine
from cnnstudio.core.training.rundir import RunDir
config = RunConfig(DatasetConfig("digits", {}),
                   ModelConfig("mlp", {"units": 32, "hidden_layers": 1}),
                   TrainConfig(epochs=2, batch_size=64, learning_rate=0.01, device="all"))
events = []
control = engine.RunControl()
def sink(e):
    events.append(e)
    if type(e).__name__ == "EpochEnd":
        control.stop()                     # one epoch, then resume for the second
first = engine.run(config, runs_root=sys.argv[1], sink=sink, control=control)
second = engine.resume(first.run_dir)
gan = RunConfig(DatasetConfig("digits", {"size": 16}), ModelConfig("dcgan", {}),
                TrainConfig(epochs=1, device="all"))
try:
    engine.run(gan, runs_root=sys.argv[1])
    refused = ""
except StudioError as exc:
    refused = str(exc)
run = RunDir(first.run_dir)
print(json.dumps({
    "first": first.status, "second": second.status, "epochs": second.summary["epochs_done"],
    "using": [e.using for e in events if type(e).__name__ == "DeviceReport"],
    "notices": [e.message for e in events if type(e).__name__ == "Notice"],
    "batch": [r["batch_size"] for r in run.records({"run_started"})],
    "stored_batch": run.config().training.batch_size,
    "steps": [r["steps_per_epoch"] for r in run.records({"run_started"})],
    "accuracy": second.summary["test"].get("accuracy", 0), "refused": refused}))
"""


@pytest.mark.slow
@pytest.mark.timeout(600)        # about 20 s on a quiet 2-core machine; minutes when loaded
def test_mirrored_strategy_over_two_logical_devices_trains_and_resumes(tmp_path):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                          text=True, timeout=560)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (out["first"], out["second"], out["epochs"]) == ("stopped", "finished", 2)
    assert out["using"][0].startswith("all (2 replicas")
    assert any("2 replicas × batch 64 per replica = global batch 128" in n
               for n in out["notices"])
    assert out["batch"] == [128, 128] and out["stored_batch"] == 64     # global, per replica
    assert out["accuracy"] > 0.5                # 10 classes (chance 0.1): it learned
    assert "not available for dcgan" in out["refused"] and "summed over the replicas" in \
        out["refused"]


@pytest.mark.parametrize("device", ["all", "gpu:1", "cpu"])
def test_device_all_is_a_valid_choice(device):
    from cnnstudio.core.config import RunConfig

    config = RunConfig()
    config.training.device = device
    assert not [p for p in config.problems() if "device" in p]
