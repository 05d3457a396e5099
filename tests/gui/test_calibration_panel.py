"""The Calibration tab (issue 27, section 4) on a tiny real run: it shows the stored epochs'
reliability diagrams and ECE curve, follows a live record, fits a temperature into
calibration.json; and the classify view applies that T to its probabilities."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtWidgets import QWidget

from cnnstudio.core.probes.calibration_record import CalibrationStore
from cnnstudio.core.training import engine
from cnnstudio.core.training.events import ProbeReady
from cnnstudio.gui.families.classification.calibration_panel import CalibrationPanel
from cnnstudio.gui.families.classification.classify_view import (
    ClassifyView,
    _answer,
    calibrated_rows,
)
from cnnstudio.gui.registry import PANELS
from tests.gui.conftest import tiny_config

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("calibration-gui")
    return engine.run(tiny_config(epochs=3), runs_root=root).run_dir


@pytest.fixture
def run_copy(trained, tmp_path):
    """A copy the test may change (calibration.json, a record taken away)."""
    return shutil.copytree(trained, tmp_path / trained.name)


@pytest.fixture
def panel(qtbot):
    widget = CalibrationPanel(SimpleNamespace(bridge=None))
    qtbot.addWidget(widget)
    yield widget
    widget.close_panel()


def _bars(panel) -> np.ndarray:
    return np.asarray(panel.bars.opts["height"], float)


def test_the_tab_serves_classifier_runs_with_its_own_hooks():
    spec = PANELS.get("calibration")
    assert spec.tasks == frozenset({"classification", "transfer", "from-run"})
    assert spec.hooks and spec.screenshot == "calibration.png"


def test_the_panel_shows_the_stored_epochs_and_the_slider_replays_them(panel, trained, qtbot):
    store = CalibrationStore(trained)
    panel.open_run(trained)
    assert panel.replay.epochs == [1, 2, 3] and panel.replay.current == 3
    x, y = panel.curve.getData()
    assert x.tolist() == [1, 2, 3]
    assert np.allclose(y, store.ece_history()[1])
    last = store.load(3).reliability()
    assert np.allclose(_bars(panel), last.accuracy[last.counts > 0])    # empty bins: no bar
    assert sum(int(label.toPlainText()) for label in panel.count_labels) == last.total
    assert "Epoch 3: ECE" in panel.summary.text() and "validation images" in panel.summary.text()
    with qtbot.waitSignal(panel.updated, timeout=5000):
        panel.replay.slider.setValue(0)
    assert panel.replay.current == 1 and panel.marker.value() == 1
    first = store.load(1).reliability()
    assert np.allclose(_bars(panel), first.accuracy[first.counts > 0])


def test_a_live_record_is_followed(panel, run_copy, qtbot):
    store = CalibrationStore(run_copy)
    third = store.path(3)
    kept = third.read_bytes()
    third.unlink()
    panel.open_run(run_copy)
    assert panel.replay.epochs == [1, 2]
    third.write_bytes(kept)                       # the writer thread saved epoch 3…
    frame = store.load(3)
    with qtbot.waitSignal(panel.updated, timeout=5000):     # …then its ProbeReady came
        panel.probe_ready(ProbeReady("calibration", 3, str(third), payload=frame))
    assert panel.replay.current == 3 and panel.curve.getData()[0].tolist() == [1, 2, 3]
    panel.probe_ready(ProbeReady("epoch", 3, "", payload=None))    # the other probes: ignored


def test_fit_temperature_saves_calibration_json_and_shows_before_and_after(panel, run_copy,
                                                                           qtbot):
    panel.open_run(run_copy)
    assert not panel.use_box.isEnabled() and "No temperature fitted" in panel.fit_label.text()
    with qtbot.waitSignal(panel.fitted, timeout=60_000):
        panel.fit_button.click()
    saved = json.loads((run_copy / "calibration.json").read_text())
    assert saved["use"] is True and saved["temperature"] > 0
    text = panel.fit_label.text()
    assert f"T = {saved['temperature']:.3f}" in text
    assert f"ECE {saved['ece_before']:.4f} → {saved['ece_after']:.4f}" in text
    assert panel.use_box.isEnabled() and panel.use_box.isChecked()
    assert len(panel.after.getData()[0]) > 0        # the calibrated diagram, over epoch 3
    panel.use_box.setChecked(False)
    assert json.loads((run_copy / "calibration.json").read_text())["use"] is False


def test_calibrated_rows_divide_log_probabilities_by_t():
    rows = [("a", 0.8), ("b", 0.15), ("c", 0.05)]
    # T = 2: softmax(log p / 2) = √p / Σ√p
    roots = np.sqrt([0.8, 0.15, 0.05])
    expected = roots / roots.sum()                 # 0.594…, 0.257…, 0.148…
    got = calibrated_rows(rows, 2.0)
    assert [n for n, _ in got] == ["a", "b", "c"]
    assert np.allclose([p for _, p in got], expected)
    stub = SimpleNamespace(class_names=["a", "b", "c"],
                           answer=lambda image, k: (image, [], rows[:k], None))
    assert _answer(stub, np.zeros((2, 2, 1)), 2.0)[1] == got
    assert _answer(stub, np.zeros((2, 2, 1)))[1] == rows


class _Window(QWidget):
    """What the classify view reads of the window: a background worker that answers at once."""

    def __init__(self):
        super().__init__()
        self.bridge = SimpleNamespace(running=False, run_dir=None)
        self.background = SimpleNamespace(
            submit=lambda fn, on_result, on_error, key=None: on_result(fn()))


def test_the_classify_view_applies_the_runs_temperature(qtbot, run_copy):
    from cnnstudio.core.families.classification.calibration_run import save_calibration
    from cnnstudio.core.predict import Predictor

    window = _Window()
    qtbot.addWidget(window)
    view = ClassifyView(window)
    qtbot.addWidget(view)
    view.set_run_dir(run_copy)
    image = (np.arange(16 * 16, dtype=np.uint8).reshape(16, 16, 1) * 7) % 255
    predictor = Predictor.from_run(run_copy)
    predictor.adapt_photos = False
    raw = dict(predictor.answer(image, 10)[2])      # every class, in rank order
    view.adapt_box.setChecked(False)
    view.predict_image(image, "a digit")
    assert view.calibrated.isHidden()
    assert dict(view.bars.rows) == pytest.approx({n: raw[n] for n, _ in view.bars.rows})

    save_calibration(run_copy, {"temperature": 3.0}, use=True)
    view.predict_image(image, "a digit")
    assert not view.calibrated.isHidden() and "T = 3.00" in view.calibrated.text()
    names = list(raw)
    p = np.array([raw[n] for n in names]) ** (1 / 3)       # softmax(log p / 3) by hand
    by_hand = dict(zip(names, p / p.sum(), strict=True))
    shown = dict(view.bars.rows)
    assert len(shown) == 5 and shown == pytest.approx({n: by_hand[n] for n in shown})
    assert [n for n, _ in view.bars.rows] == names[:5]         # the ranking stays
