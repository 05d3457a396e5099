"""The prediction dock warns when an image looks nothing like the run's training images, and
says nothing otherwise."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.gui.families.classification.classify_view import unfamiliar_text
from tests.gui.conftest import configure


@pytest.mark.slow
def test_the_warning_text_names_the_score_and_the_usual_range():
    assert unfamiliar_text(None) is None
    assert unfamiliar_text({"score": 0.4, "threshold": 2.0, "unfamiliar": False}) is None
    text = unfamiliar_text({"score": 3.14, "threshold": 2.04, "unfamiliar": True,
                            "noun": "digits"})
    assert text.startswith("⚠ This does not look like the digits it was trained on")
    assert "3.1" in text and "usual up to 2.0" in text and "guess" in text


@pytest.mark.slow
def test_the_dock_shows_the_line_for_noise_and_hides_it_for_a_digit(qtbot, studio):
    from cnnstudio.core.predict import Predictor

    configure(qtbot, studio, RunConfig(DatasetConfig("digits", {}),
                                       ModelConfig("mlp", {"units": 64, "hidden_layers": 1}),
                                       TrainConfig(epochs=12, batch_size=32,
                                                   learning_rate=0.005)))
    with qtbot.waitSignal(studio.bridge.finished, timeout=120_000) as finished:
        qtbot.mouseClick(studio.training.start, Qt.LeftButton)
    qtbot.waitUntil(lambda: studio.training.start.isEnabled(), timeout=30_000)
    assert finished.args[0].status == "finished"
    predictor = Predictor.from_run(finished.args[0].run_dir)
    digit = next(d for d in studio.dataset.dataset.test.x
                 if not predictor.familiarity(d)["unfamiliar"])
    noise = np.random.default_rng(0).integers(0, 256, (8, 8, 1), dtype=np.uint8)
    assert predictor.familiarity(noise)["unfamiliar"]

    view = studio.prediction.view
    with qtbot.waitSignal(studio.prediction.shown, timeout=30_000):
        studio.prediction.predict_image(noise, "noise")
    assert view.unfamiliar.isVisible()
    assert "does not look like the digits it was trained on" in view.unfamiliar.text()
    assert "looks unlike the training images" in studio.prediction.hint.text()

    with qtbot.waitSignal(studio.prediction.shown, timeout=30_000):
        studio.prediction.predict_image(digit, "digit")
    assert not view.unfamiliar.isVisible()
    assert len(view.bars.rows) == 5
