"""The Suspect labels tab (issue 27, section 3) on a tiny real run: the training images ranked
by loss follow a click on the confusion matrix; a saved audit's suspects are shown worst
first and each decision lands in the file beside the dataset, which the next run's config
names; Find suspects trains the folds (and Cancel stops them)."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import numpy as np
import pytest

from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.probes import label_audit as la
from cnnstudio.core.probes import label_decisions as ld
from cnnstudio.core.probes.calibration_record import predict_probabilities
from cnnstudio.core.training import engine
from cnnstudio.gui.families.classification.suspects_panel import SuspectsPanel
from cnnstudio.gui.registry import PANELS
from tests.gui.conftest import tiny_config

pytest.importorskip("tensorflow")
pytest.importorskip("cleanlab")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("suspects-gui")
    return engine.run(tiny_config(epochs=2, options={"size": 8}), runs_root=root).run_dir


@pytest.fixture
def run_copy(trained, tmp_path):
    """A copy under its own runs root: the audit and the decisions file go there."""
    return shutil.copytree(trained, tmp_path / "runs" / trained.name)


@pytest.fixture
def panel(qtbot):
    configs = []
    window = SimpleNamespace(bridge=None, set_run_config=configs.append)
    widget = SuspectsPanel(window)
    widget.configs = configs
    qtbot.addWidget(widget)
    widget.show()          # a hidden tab computes nothing until shown
    yield widget
    widget.close_panel()


def _open(panel, run_dir, qtbot):
    with qtbot.waitSignal(panel.ranked, timeout=30_000):
        panel.open_run(run_dir)


def test_the_tab_serves_classifier_runs_with_its_own_hooks():
    spec = PANELS.get("suspects")
    assert spec.title == "Suspect labels" and spec.screenshot == "suspects.png"
    assert spec.tasks == frozenset({"classification", "transfer", "from-run"}) and spec.hooks


@pytest.mark.slow
def test_images_ranked_by_loss_follow_the_confusion_matrix(panel, trained, qtbot):
    _open(panel, trained, qtbot)
    data = load_dataset(tiny_config(options={"size": 8}).dataset)
    probs = predict_probabilities(load_model_file(trained / "model.keras"), data.train.x)
    y = data.train.y
    assert np.allclose(panel.losses.probs, probs, atol=1e-5)
    assert np.allclose(panel.losses.image_item.image.sum(axis=1), 1)     # rows: shares of a class
    everything = la.ranked_by_loss(probs, y)
    assert panel.losses.gallery.indices == everything[:200].tolist()
    cm = la.confusion(probs, y, 10)
    t, q = np.unravel_index(np.argmax(cm - np.diag(np.diag(cm)) * 10**6), cm.shape)
    with qtbot.waitSignal(panel.ranked):
        shown = panel.losses.select_cell(int(t), int(q))
    expected = la.ranked_by_loss(probs, y, int(t), int(q))
    assert shown.tolist() == expected.tolist() and len(expected) == cm[t, q] > 0
    assert panel.losses.gallery.indices == expected[:200].tolist()
    assert panel.losses.marker.isVisible() and "predicted" in panel.losses.gallery.header.text()
    panel.losses.select_cell(None, None)
    assert panel.losses.gallery.indices == everything[:200].tolist()


@pytest.mark.slow
def test_saved_suspects_are_shown_and_decisions_are_written_beside_the_dataset(
        panel, run_copy, qtbot):
    data = la.training_set(run_copy)
    n = len(data.y)
    probs = np.full((n, 10), 0.1 / 9)
    probs[np.arange(n), data.y] = 0.9
    found = [(7, int(data.y[7]), 3 if data.y[7] != 3 else 4, 0.01),
             (2, int(data.y[2]), 5 if data.y[2] != 5 else 6, 0.04)]
    la.save_audit(run_copy, la.AuditResult(probs, data.y, data.keys, found, 3, 2))
    _open(panel, run_copy, qtbot)
    assert panel.suspect_gallery.indices == [7, 2]             # lowest self-confidence first
    assert "2 suspect label(s)" in panel.suspect_gallery.header.text()
    item = panel.suspect_gallery.list.item(0)
    assert item.text().startswith(f"{data.y[7]} → {found[0][2]}?")
    assert not panel.keep_button.isEnabled()

    panel.suspect_gallery.click(0)
    assert panel.relabel_box.currentText() == str(found[0][2])    # the suggestion, ready
    with qtbot.waitSignal(panel.decided):
        panel.relabel_button.click()
    panel.suspect_gallery.click(1)
    with qtbot.waitSignal(panel.decided):
        panel.exclude_button.click()
    path = ld.decisions_path(data.dataset_config, run_copy.parent)
    assert path.parent == run_copy.parent / ld.FOLDER and panel.decisions_file == path
    saved = ld.load(path)["decisions"]
    assert saved == {data.keys[7]: {"action": "relabel", "given": str(data.y[7]),
                                    "label": str(found[0][2])},
                     data.keys[2]: {"action": "exclude", "given": str(data.y[2])}}
    assert panel.suspect_gallery.list.item(1).text().startswith(f"{data.y[2]} → ")
    assert panel.suspect_gallery.list.item(1).text().endswith("· out")

    panel.retrain_button.click()
    config = panel.configs[-1]
    assert config.dataset.options[ld.OPTION] == str(path)
    assert len(load_dataset(config.dataset).train) == n - 1       # the next run's data


@pytest.mark.slow
def test_find_suspects_trains_the_folds_and_cancel_stops_them(panel, run_copy, qtbot):
    _open(panel, run_copy, qtbot)
    panel.folds.setValue(2)
    panel.epochs.setValue(1)
    with qtbot.waitSignal(panel.audited, timeout=60_000):
        panel.find_button.click()
    saved = la.load_audit(run_copy)
    assert saved is not None and saved.folds == 2 and saved.epochs == 1
    assert panel.suspect_gallery.indices == [i for i, *_ in saved.found][:200]
    assert not panel.bar.isVisible() and panel.find_button.isEnabled()

    panel.epochs.setValue(200)
    with qtbot.waitSignal(panel._progress, timeout=30_000):
        panel.find_button.click()
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.find_button.isEnabled(), timeout=30_000)
    assert "Stopped" in panel.status.text()
    assert la.load_audit(run_copy).epochs == 1                 # the earlier audit stays
