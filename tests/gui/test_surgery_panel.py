"""The "Cut it" panel on a tiny real LeNet run: the ranking it draws agrees with what a click
measures, a click and a second click switch a filter off and back on exactly, "Save as new
run" leaves the source run byte for byte, and a live run lends its model once, untouched."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import Future
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.probes import surgery
from cnnstudio.core.probes.adversarial_curve import sample_test_split
from cnnstudio.core.training import engine
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui.families.classification.surgery_panel import SurgeryPanel
from cnnstudio.gui.families.classification.surgery_views import OFF_TINT
from cnnstudio.gui.registry import PANELS

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    config = RunConfig(DatasetConfig("digits", {"size": 16}), ModelConfig("lenet5", {}),
                       TrainConfig(epochs=2, batch_size=32))
    return engine.run(config, runs_root=tmp_path_factory.mktemp("surgery-runs")).run_dir


def opened(qtbot, panel, run_dir):
    """Open the run and wait for the first score and the ranking (a small model ranks its
    last convolution layer on its own)."""
    with qtbot.waitSignals([panel.updated, panel.ranked], timeout=60_000):
        panel.open_run(run_dir)
    qtbot.waitUntil(lambda: not panel.busy(), timeout=30_000)


def test_the_panel_serves_classifiers_with_its_own_hooks_and_screenshot():
    spec = PANELS.get("surgery")
    assert spec.title == "Cut it" and spec.tasks == frozenset({"classification", "transfer", "from-run"})
    assert spec.hooks and spec.screenshot == "surgery.png"


@pytest.mark.slow
def test_clicks_match_the_ranking_and_save_as_run_keeps_the_source(qtbot, lenet_run, tmp_path):
    panel = SurgeryPanel(SimpleNamespace(bridge=None))
    qtbot.addWidget(panel)
    panel.show()          # a hidden tab computes nothing until shown
    panel.resize(1000, 720)
    opened(qtbot, panel, lenet_run)
    assert [panel.layer_box.itemText(i) for i in range(panel.layer_box.count())] == ["c1", "c3"]
    assert panel.layer == "c3" and panel.kernels["c3"].shape == (5, 5, 6, 16)
    # The uncut score is the saved model's, on the same fixed sample (shown with its size).
    x, y, _ = sample_test_split(lenet_run, 500)
    model = load_model_file(RunDir.open(lenet_run).model_path())
    uncut = surgery.evaluate(model, x, y)
    assert panel.base["accuracy"] == uncut["accuracy"] and len(panel.sample[1]) == len(y)
    assert f"on {len(y)} test images" in panel.accuracy.text()
    assert sorted(f for f, _, _ in panel.ranking) == list(range(16))
    assert list(panel.chart.bars.opts["height"]) == pytest.approx([100 * d for _, _, d in
                                                             panel.ranking])

    worst, accuracy_without, _ = panel.ranking[0]
    with qtbot.waitSignal(panel.updated, timeout=30_000):
        panel.toggle(worst)
    assert panel.cuts() == {"c3": [worst]}
    assert panel.result["accuracy"] == pytest.approx(accuracy_without)
    x0, y0 = panel._view.mosaic.tile_origin(worst)
    tinted = panel.grid.image[y0, x0].astype(float)
    assert np.all(np.abs(tinted - 0.65 * OFF_TINT) <= 0.35 * 255 + 1)   # red over the tile
    assert "points" in panel.accuracy.text()
    panel.grab().save(str(tmp_path / "surgery.png"))

    source = Path(lenet_run)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in source.rglob("*")
              if p.is_file()}
    with qtbot.waitSignal(panel.saved, timeout=30_000) as saved:
        panel.save_as("one filter less")
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in source.rglob("*")
            if p.is_file()} == before
    new = Path(saved.args[0])
    summary = json.loads((new / "summary.json").read_text())
    assert summary["surgery"]["cuts"] == {"c3": [worst]}
    reloaded = load_model_file(RunDir.open(new).model_path())
    assert surgery.evaluate(reloaded, x, y)["accuracy"] == pytest.approx(accuracy_without)

    with qtbot.waitSignal(panel.updated, timeout=30_000):
        panel.toggle(worst)                              # back on: exactly the uncut model
    assert panel.cuts() == {}
    assert panel.result["accuracy"] == uncut["accuracy"]
    assert np.array_equal(panel.result["confusion"], uncut["confusion"])
    panel.close_panel()


class LiveBridge:
    """A training run's bridge: ``submit`` serves fn(model) 'between batches'."""

    def __init__(self, run_dir, model):
        self.running, self.run_dir, self.model, self.calls = True, run_dir, model, 0

    def submit(self, fn, callback):
        self.calls += 1
        future = Future()
        future.set_result(fn(self.model))
        callback(future)
        return True


@pytest.mark.slow
def test_a_live_run_lends_its_model_once_and_keeps_its_weights(qtbot, lenet_run):
    model = load_model_file(RunDir.open(lenet_run).model_path())
    weights = [w.copy() for w in model.get_weights()]
    bridge = LiveBridge(lenet_run, model)
    panel = SurgeryPanel(SimpleNamespace(bridge=bridge))
    qtbot.addWidget(panel)
    panel.show()          # a hidden tab computes nothing until shown
    opened(qtbot, panel, lenet_run)
    with qtbot.waitSignal(panel.updated, timeout=30_000):
        panel.toggle(0)
    with qtbot.waitSignal(panel.updated, timeout=30_000):
        panel.toggle(5)
    assert panel.cuts() == {"c3": [0, 5]} and bridge.calls == 1      # one copy, then its own
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights,
                                                       strict=True))
    assert panel.models.runner is None                # no inference copy loaded from disk
    panel.close_panel()


def test_a_model_without_convolutions_says_so(qtbot, tmp_path):
    from cnnstudio.core.keras_setup import keras

    k = keras()
    config = RunConfig(DatasetConfig("digits", {}), ModelConfig("mlp", {"units": 8}),
                       TrainConfig(epochs=1))
    folder = RunDir.create(config, root=tmp_path)
    folder.save_model(k.Sequential([k.Input((8, 8, 1)), k.layers.Flatten(),
                                    k.layers.Dense(10, activation="softmax")]))
    panel = SurgeryPanel(SimpleNamespace(bridge=None))
    qtbot.addWidget(panel)
    panel.show()          # a hidden tab computes nothing until shown
    panel.show()                        # no model.json to say it is small: loads when seen
    panel.open_run(folder.path)
    qtbot.waitUntil(lambda: "no convolution layers" in panel.status.text(), timeout=30_000)
    assert panel.layer_box.count() == 0 and not panel.busy()
    assert not panel.rank_button.isEnabled() and not panel.save_button.isEnabled()
    panel.close_panel()


def test_a_filter_cut_from_the_filters_tab_switches_it_off_in_its_layer(qtbot, lenet_run):
    panel = SurgeryPanel()
    qtbot.addWidget(panel)
    panel.show()          # a hidden tab computes nothing until shown
    opened(qtbot, panel, lenet_run)
    other = next(name for name in surgery_layers(panel) if name != panel.layer)
    with qtbot.waitSignal(panel.updated, timeout=60_000):
        panel.cut_filter(other, 2)         # the Filters tab's Ctrl+click on another layer
    qtbot.waitUntil(lambda: panel.cuts() == {other: [2]}, timeout=60_000)
    assert panel.layer == other
    panel.close_panel()


def surgery_layers(panel) -> list[str]:
    return [panel.layer_box.itemText(i) for i in range(panel.layer_box.count())]
