"""The Haar cascade tab: sliders redraw the boxes at once, the cascade's structure comes
from its XML, rejection counts arrive from the worker thread, and in the studio the
haar-cascade model shows the tab and the dock draws a dropped photo's boxes."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.families.detection.haar_probes import BOX_COLOUR


@pytest.fixture(scope="module")
def face_crop():
    return np.ascontiguousarray(data.astronaut()[30:230, 130:330])     # her face, 200×200


@pytest.fixture
def panel(qtbot, face_crop):
    from cnnstudio.gui.families.detection.haar_panel import HaarPanel

    widget = HaarPanel(image=face_crop, caption="face crop")
    qtbot.addWidget(widget)
    yield widget
    widget.close_panel()


def test_sliders_redraw_the_boxes_at_once(qtbot, panel):
    assert len(panel.result.boxes) == 1 and "1 × face" in panel.summary.text()
    x, y, w, h = panel.result.boxes[0]
    drawn = panel.photo.image
    assert tuple(drawn[y, x + w // 2]) == BOX_COLOUR           # the box's top edge
    with qtbot.waitSignal(panel.updated, timeout=5000):
        panel.neighbors.setValue(0)                          # every raw window, ungrouped
    assert len(panel.result.boxes) > 5 and "ungrouped" in panel.summary.text()
    with qtbot.waitSignal(panel.updated, timeout=5000):
        panel.min_size.setValue(150)                         # larger than her face
    assert len(panel.result.boxes) == 0 and "no face" in panel.summary.text()
    with qtbot.waitSignal(panel.updated, timeout=5000):
        panel.min_size.setValue(30)
        panel.scale.setValue(1.3)
    assert panel.options() == (1.3, 0, 30)
    assert "full-scan pyramid:" in panel.pyramid_title.text()


@pytest.mark.slow
def test_structure_features_and_rejections(qtbot, panel):
    assert "25 stages, 2913 Haar features" in panel.structure_text.text()
    assert len(panel.structure_bars.opts["height"]) == 25
    assert "Stage 1's 9 Haar features on the first face found" in panel.features_title.text()
    qtbot.waitUntil(lambda: not panel.busy(), timeout=30_000)
    t = panel.totals
    assert t["windows"] == t["skipped"] + t["flat"] + sum(t["rejected"]) + t["accepted"]
    assert t["accepted"] > 0 and len(panel.reject_bars.opts["height"]) == 25
    assert f"{t['windows']:,} windows" in panel.reject_text.text()
    with qtbot.waitSignal(panel.counted, timeout=30_000):
        panel.cascade.setCurrentIndex(panel.cascade.findData("eye"))
    assert "eye</b>: 20×20 window, 24 stages" in panel.structure_text.text()
    assert len(panel.totals["rejected"]) == 24 and panel.result.label == "eye"


@pytest.mark.slow
def test_the_studio_shows_the_haar_tab_and_draws_a_dropped_photo(qtbot, studio, face_crop):
    studio.set_run_config(RunConfig(DatasetConfig("photos", {"size": 128}),
                                    ModelConfig("haar-cascade", {"cascade": "eye"}),
                                    TrainConfig(epochs=1, batch_size=1)))
    # Nothing to train: the lesson opens on the Haar tab, with no empty curves tab.
    assert studio.tabs.tab_titles() == ["Haar cascade"]
    assert studio.tabs.current_panel() is studio.tabs.panels()["haar"]
    assert studio.prediction.kind == "haar"
    tab = studio.tabs.panels()["haar"]
    assert tab.cascade_name == "eye"                          # the model option
    view = studio.prediction.view_for("haar")
    with qtbot.waitSignal(view.detected, timeout=10_000):
        studio.prediction.predict_image(face_crop, "face.png")
    assert "face.png" in view.result.text() and "eye" in view.result.text()
    assert tab.caption == "face.png" and np.array_equal(tab.image, face_crop)
    qtbot.waitUntil(lambda: not tab.busy(), timeout=30_000)


def test_votes_clause_known_answers():
    from cnnstudio.gui.families.detection.haar_panel import votes_text

    assert votes_text(np.array([], np.int32), 5) == ""              # nothing found: no votes
    assert votes_text(np.array([12, 7]), 5) == "; votes: 12, 7"
    assert votes_text(np.arange(1, 9), 3) == "; votes: 1, 2, 3, 4, 5, 6, …"
    assert votes_text(np.zeros(4, np.int32), 0) == "; ungrouped"


def test_no_empty_votes_when_nothing_is_found(qtbot, panel):
    # Issue 22: "votes: )" when min neighbours > 0 and no box.
    votes = int(panel.result.neighbors[0])
    assert votes >= 5 and panel.summary.text().endswith(f"octaves search; votes: {votes})")
    with qtbot.waitSignal(panel.updated, timeout=5000):
        panel.min_size.setValue(150)                         # larger than her face
    assert len(panel.result.boxes) == 0 and panel.neighbors.value() == 5
    text = panel.summary.text()
    assert "votes" not in text and text.endswith("(OpenCV detectMultiScale, octaves search)")
