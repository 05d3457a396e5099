"""The Training panel offers "All GPUs" where there are several, and keeps it from a config."""

from __future__ import annotations

from cnnstudio.core.config import TrainConfig
from cnnstudio.gui.panels.training_panel import TrainingPanel


def test_all_gpus_is_offered_with_two_gpus_and_kept_from_a_config(qtbot):
    one = TrainingPanel()
    qtbot.addWidget(one)
    one.set_gpus(["GPU A"])
    assert one.device.findData("all") < 0              # one GPU: nothing to spread over
    two = TrainingPanel()
    qtbot.addWidget(two)
    two.set_gpus(["GPU A", "GPU B"])
    assert two.device.itemText(two.device.findData("all")) == "All GPUs (data parallel)"
    loaded = TrainingPanel()
    qtbot.addWidget(loaded)
    loaded.set_config(TrainConfig(device="all"))
    assert loaded.device.currentData() == "all"
