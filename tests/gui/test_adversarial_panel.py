"""The "Fool it" panel on a tiny real digits run: the slider redraws the attack, newest
request wins, targeted attacks, the test-set curve, and bad files give one line."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from cnnstudio.core.probes.adversarial_curve import sample_test_split
from cnnstudio.core.training import engine
from cnnstudio.gui.families.classification.adversarial_panel import AdversarialPanel
from cnnstudio.gui.registry import PANELS
from tests.gui.conftest import tiny_config

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial-runs")
    return engine.run(tiny_config(epochs=3, options={}), runs_root=root).run_dir


@pytest.fixture
def panel(qtbot, digits_run):
    widget = AdversarialPanel(SimpleNamespace(bridge=None))
    qtbot.addWidget(widget)
    widget.show()          # a hidden tab computes nothing until shown
    widget.open_run(digits_run)
    yield widget
    widget.close_panel()


@pytest.fixture(scope="module")
def digit(digits_run):
    images, labels, _ = sample_test_split(digits_run, count=1)
    return images[0]


def test_the_panel_serves_classifiers_with_its_own_hooks_and_screenshot():
    spec = PANELS.get("adversarial")
    assert spec.tasks == frozenset({"classification", "transfer", "from-run"})
    assert spec.hooks and spec.screenshot == "adversarial.png"


def test_the_slider_redraws_the_attack_within_eps(qtbot, panel, digit):
    with qtbot.waitSignal(panel.updated, timeout=30_000):
        panel.set_image(digit, "test #0")
    first = panel.result
    assert first.eps == pytest.approx(0.1) and first.method == "fgsm"
    assert np.array_equal(first.original, digit)
    assert 0 < np.abs(first.perturbation).max() <= 25
    assert len(panel.before_bars.rows) == len(panel.after_bars.rows) == 5
    assert panel.perturbation_view.image.shape == (8, 8, 3)
    with qtbot.waitSignal(panel.updated, timeout=30_000):
        panel.eps_slider.setValue(60)                       # ε = 0.3
    assert panel.result.eps == pytest.approx(0.3)
    assert np.abs(panel.result.perturbation).max() == 76     # ⌊0.3·255⌋
    # FGSM's step direction does not depend on ε: the same signs, three times the size.
    moved = (panel.result.perturbation != 0) & (first.perturbation != 0)   # 0 or 255: clipped
    assert moved.any()
    assert np.array_equal(np.sign(panel.result.perturbation)[moved],
                          np.sign(first.perturbation)[moved])
    assert panel.latency_ms is not None and "ε = 0.300" in panel.status.text()


def test_the_newest_request_wins(qtbot, panel, digit):
    with qtbot.waitSignal(panel.updated, timeout=30_000):
        panel.set_image(digit, "test #0")
    for value in (2, 4, 6, 8, 10, 12):
        panel.eps_slider.setValue(value)
    qtbot.waitUntil(lambda: not panel.busy() and panel.result.eps == pytest.approx(0.06),
                    timeout=30_000)
    assert panel._waiting is None


def test_a_targeted_pgd_attack_raises_the_chosen_class(qtbot, panel, digit):
    with qtbot.waitSignal(panel.updated, timeout=30_000):
        panel.set_image(digit, "test #0")
    label = panel.result.label
    target = (label + 1) % 10
    panel.method_box.setCurrentIndex(1)
    qtbot.waitUntil(lambda: not panel.busy() and panel.result.method == "pgd", timeout=30_000)
    panel.target_box.setCurrentIndex(target)
    panel.targeted.setChecked(True)
    qtbot.waitUntil(lambda: not panel.busy() and panel.result.target == target,
                    timeout=30_000)
    found = panel.result
    assert found.after[target] > found.before[target]
    assert np.abs(found.perturbation).max() <= 25


def test_the_test_set_curve_starts_at_the_clean_accuracy(qtbot, panel, digits_run):
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.probes.adversarial import probabilities
    from cnnstudio.core.training.rundir import RunDir

    with qtbot.waitSignal(panel.curveReady, timeout=60_000):
        panel.test_set_curve(count=80, eps_values=(0.0, 0.1, 0.3))
    images, labels, _ = sample_test_split(digits_run, count=80)
    model = load_model_file(RunDir.open(digits_run).model_path())
    clean = float((probabilities(model, images).argmax(axis=1) == labels).mean())
    assert panel.curve.accuracy[0] == pytest.approx(clean)
    assert panel.curve.accuracy[2] < clean
    x, y = panel.curve_line.getData()
    assert list(x) == [0.0, 0.1, 0.3] and list(y) == panel.curve.accuracy
    assert panel.examples_view.image.shape[0] == 3 * 8 + 2 * 2      # a row per ε
    assert "clean" in panel.status.text()


def test_a_file_that_is_not_an_image_gives_one_line(panel, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    panel.open_image(str(bad))
    text = panel.status.text()
    assert text.startswith("⚠") and "notes.png" in text and "\n" not in text
