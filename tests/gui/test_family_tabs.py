"""The studio follows the kind of model: centre tabs, curves and the prediction dock come
from the task's profile and the panel registry, never from branches on the task's name."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.families.profile import PROFILES, Plot, Profile, Series
from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.core.training.events import BatchEnd, EpochEnd, ProbeReady
from cnnstudio.gui.registry import PANELS, PREDICTION_VIEWS, PanelSpec

CLASSIFIER_TABS = ["Training curves", "Filters", "Feature maps", "Grad-CAM", "Filter dreams",
                   "Confusion", "Errors", "Epoch replay", "Fool it", "Calibration",
                   "Cut it", "Suspect labels", "What a unit sees", "What changed", "Projector",
                   "Camera"]


class ToyPanel(QLabel):
    """A family panel that records the hooks it receives."""

    def __init__(self, window):
        super().__init__("toy")
        self.calls: list[tuple] = []

    def probe_ready(self, event):
        self.calls.append(("probe_ready", event.name, event.epoch))

    def epoch_done(self, event):
        self.calls.append(("epoch_done", event.epoch))

    def set_image(self, image, caption):
        self.calls.append(("set_image", image.shape, caption))


class ToyView(QLabel):
    def __init__(self, window):
        super().__init__("view")
        self.asked: list[tuple] = []
        self.run_dir = "unset"

    def set_run_dir(self, path):
        self.run_dir = path

    def predict_image(self, image, name):
        self.asked.append((image.shape, name))


@pytest.fixture
def toy_family(monkeypatch):
    profile = Profile("toy", "toy family",
                      (Plot("Losses", (Series("d_loss", "D loss"), Series("g_loss", "G loss")),
                            validation=False),
                       Plot("D outputs", (Series("d_real", "mean D(x)"),), validation=False,
                            y_range=(0, 1))),
                      prediction="toy-predict")
    monkeypatch.setitem(PROFILES._entries, "toy", profile)
    monkeypatch.setitem(ARCHITECTURES._entries, "toy-gen", Architecture(
        "toy-gen", "Toy", "a test family", "test", lambda shape, classes: None, task="toy"))
    monkeypatch.setitem(PANELS._entries, "toy-panel", PanelSpec(
        "toy-panel", "Toy console", "tip", ToyPanel, frozenset({"toy"})))
    monkeypatch.setitem(PREDICTION_VIEWS._entries, "toy-predict", ToyView)
    return profile


def test_a_classifier_shows_the_classifier_tabs(studio):
    assert studio.tabs.tab_titles() == CLASSIFIER_TABS
    assert set(studio.plots.curves) == {"loss", "smooth_loss", "val_loss", "accuracy",
                                        "smooth_accuracy", "val_accuracy"}
    assert studio.prediction.kind == "classify"


def test_another_family_swaps_tabs_curves_and_prediction_and_back(studio, toy_family):
    studio.show_family("toy-gen")
    assert studio.tabs.tab_titles() == ["Training curves", "Toy console"]
    assert [p.spec.title for p in studio.plots.plots] == ["Losses", "D outputs"]
    assert set(studio.plots.curves) == {"d_loss", "smooth_d_loss", "g_loss", "smooth_g_loss",
                                        "d_real", "smooth_d_real"}
    # Per-batch running means become per-batch values, for the family's own keys.
    studio.plots.set_batching(10, 20)
    studio.plots.add_batches([BatchEnd(1, 1, 2, {"d_loss": 1.0, "g_loss": 3.0, "d_real": .5}, 0),
                              BatchEnd(1, 2, 2, {"d_loss": 0.8, "g_loss": 2.0, "d_real": .6}, 0)])
    studio.plots.flush()
    np.testing.assert_allclose(studio.plots.values("d_loss")[1], [1.0, 0.6])
    np.testing.assert_allclose(studio.plots.values("g_loss")[1], [3.0, 1.0])
    assert studio.plots.point_counts()["smooth_d_real"] == 2

    panel = studio.tabs.panel("toy-panel")
    studio.tabs.probe_ready(ProbeReady("toy-grid", 3, "", payload=None))
    studio.tabs.epoch_done(EpochEnd(3, 5, {}, 1.0, 10.0))
    image = np.zeros((8, 8, 3), np.uint8)
    studio.prediction.predict_image(image, "a dropped image")
    assert ("probe_ready", "toy-grid", 3) in panel.calls
    assert ("epoch_done", 3) in panel.calls
    assert ("set_image", (8, 8, 3), "a dropped image") in panel.calls
    view = studio.prediction.views["toy-predict"]
    assert view.asked == [((8, 8, 3), "a dropped image")]
    assert studio.prediction.stack.currentWidget() is view

    studio.show_family("mlp")
    assert studio.tabs.tab_titles() == CLASSIFIER_TABS
    assert studio.prediction.stack.currentWidget() is studio.prediction.view_for("classify")
    assert "d_loss" not in studio.plots.curves
