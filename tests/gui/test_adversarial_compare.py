"""The Fool it tab's two curves: a run trained with the ``adversarial`` option and its sibling
trained without it (same model, same data) on one plot, each measured on its own model."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from cnnstudio.core.predict import load_model_file
from cnnstudio.core.probes.adversarial import probabilities
from cnnstudio.core.probes.adversarial_curve import sample_test_split
from cnnstudio.core.probes.adversarial_pair import counterpart
from cnnstudio.core.training import engine
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui.families.classification.adversarial_panel import AdversarialPanel
from tests.gui.conftest import tiny_config

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """(plain, adversarial): two one-epoch MLP runs on 16×16 digits in one runs folder."""
    root = tmp_path_factory.mktemp("adversarial-pair")
    runs = []
    for adversarial in ({}, {"eps": 0.1, "ratio": 0.5}):
        config = tiny_config(epochs=1)
        config.training.steps_per_call = 8
        config.training.adversarial = adversarial
        runs.append(engine.run(config, runs_root=root).run_dir)
    # Newest by name, same model, other data options: never a sibling to compare with.
    fake = root / "99999999-other-size"
    fake.mkdir()
    other = RunDir(runs[1]).config()
    other.dataset.options = {"size": 12}
    (fake / "config.json").write_text(json.dumps(other.to_dict()))
    (fake / "model.keras").write_bytes(b"")
    return runs


@pytest.mark.slow
def test_each_run_finds_the_sibling_trained_the_other_way(two_runs, tmp_path):
    plain, attacked = two_runs
    assert counterpart(plain)[0].path == attacked
    assert counterpart(attacked)[0].path == plain
    assert counterpart(tmp_path / "no-such-run") is None


def test_the_two_curves_share_one_plot(qtbot, two_runs):
    plain, attacked = two_runs
    panel = AdversarialPanel(SimpleNamespace(bridge=None))
    qtbot.addWidget(panel)
    try:
        panel.open_run(attacked)
        with qtbot.waitSignals([panel.curveReady, panel.compare.ready], timeout=60_000):
            panel.test_set_curve(count=60, eps_values=(0.0, 0.1))
        assert panel.compare.missing == ""
        ours, theirs = panel.curve_line.getData(), panel.compare.line.getData()
        assert list(ours[0]) == list(theirs[0]) == [0.0, 0.1]
        # The sibling's clean accuracy is its own model's, on the same 60 test images.
        images, labels, _ = sample_test_split(plain, 60)
        model = load_model_file(RunDir(plain).model_path())
        clean = float(np.mean(probabilities(model, images).argmax(1) == labels))
        assert theirs[1][0] == pytest.approx(clean)
        names = [label.text for _, label in panel.plot.plotItem.legend.items]
        assert names == ["this run: FGSM-trained, ε 0.1 on 50%",
                         "sibling: no adversarial training"]
        assert f"sibling: no adversarial training ({plain.name}): ε 0: " in panel.status.text()
    finally:
        panel.close_panel()


@pytest.mark.slow
def test_a_run_without_a_sibling_says_how_to_get_one(qtbot, tmp_path):
    config = tiny_config(epochs=1)
    config.training.steps_per_call = 8
    alone = engine.run(config, runs_root=tmp_path).run_dir
    panel = AdversarialPanel(SimpleNamespace(bridge=None))
    qtbot.addWidget(panel)
    try:
        panel.open_run(alone)
        with qtbot.waitSignals([panel.curveReady, panel.compare.ready], timeout=60_000):
            panel.test_set_curve(count=20, eps_values=(0.0, 0.1))
        assert panel.compare.curve is None
        assert "with the adversarial option (Training ▸ Advanced ▸ Adversarial)" \
            in panel.status.text()
        assert len(panel.plot.plotItem.legend.items) == 1
    finally:
        panel.close_panel()
