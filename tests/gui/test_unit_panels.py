"""What a unit sees, What changed and the Projector (issue 27, section 5) on one tiny LeNet run:
a clicked unit's boxes follow the receptive-field arithmetic, the recorded per-epoch test
predictions match the model, a run without records compares its checkpoints, and the lasso
gathers exactly the points inside it."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from cnnstudio.core.probes import projector
from cnnstudio.core.probes import what_changed as wc
from cnnstudio.core.training import engine
from cnnstudio.gui.families.classification.projector_panel import ProjectorPanel
from cnnstudio.gui.families.classification.receptive_field_panel import ReceptiveFieldPanel
from cnnstudio.gui.families.classification.what_changed_panel import WhatChangedPanel
from cnnstudio.gui.registry import PANELS
from tests.gui.conftest import tiny_config

pytest.importorskip("tensorflow")
WAIT = 60_000


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    config = tiny_config(epochs=2, model="lenet5", model_options={})
    return engine.run(config, runs_root=tmp_path_factory.mktemp("unit-panels")).run_dir


def _panel(qtbot, cls):
    widget = cls(SimpleNamespace(bridge=None))
    qtbot.addWidget(widget)
    widget.show()          # a hidden tab computes nothing until shown
    return widget


def _click(x, y):
    return SimpleNamespace(button=lambda: Qt.LeftButton, pos=lambda: QPointF(x, y),
                           accept=lambda: None)


@pytest.mark.slow
def test_the_three_tabs_serve_classifiers_with_their_screenshots():
    for panel_id, shot in (("receptive-field", "receptive-field.png"),
                           ("what-changed", "what-changed.png"), ("projector", "projector.png")):
        spec = PANELS.get(panel_id)
        assert spec.tasks == frozenset({"classification", "transfer", "from-run"})
        assert spec.hooks and spec.screenshot == shot


@pytest.mark.slow
def test_a_clicked_unit_shows_its_field_its_gradient_and_its_top_patches(qtbot, lenet_run):
    panel = _panel(qtbot, ReceptiveFieldPanel)
    try:
        with qtbot.waitSignal(panel.updated, timeout=WAIT):
            panel.open_run(lenet_run)
        # The last convolution by default, its strongest unit for the first probe image.
        assert [panel.layer_box.itemText(i) for i in range(panel.layer_box.count())] == [
            "c1", "s2", "c3", "s4"]
        assert panel.layer == "c3" and panel.maps.shape == (4, 4, 16)
        channel, row, col = panel.unit
        assert panel.maps[row, col, channel] == panel.maps.max()
        # c3 of LeNet on 16×16: 5×5 "same", pool 2/2, 5×5 valid → 14×14, jump 2, first −2.
        f = panel.field
        assert (f.size, f.jump, f.first) == ((14, 14), (2, 2), (-2, -2))
        x0, y0 = panel.mosaic.tile_origin(3)
        with qtbot.waitSignal(panel.updated, timeout=WAIT):
            panel._map_clicked(_click(x0 + 3.5, y0 + 1.5))      # channel 3, row 1, col 3
        assert panel.unit == (3, 1, 3)
        top, left, bottom, right = f.box(1, 3, (16, 16))
        assert (top, left, bottom, right) == (0, 4, 14, 16)     # rows 0–13, cols 4–17 → 15
        rect = panel.boxes["theory"].rect()
        assert (rect.x(), rect.y(), rect.width(), rect.height()) == (4, 0, 12, 14)
        assert panel.boxes["effective"].rect() == rect
        erf, found = panel.result["erf"], panel.result["top"]
        assert erf.heat.shape == (16, 16) and erf.unit == (1, 3, 3)
        if erf.support is not None:                      # a live unit: its gradient is inside
            s = erf.support
            assert s[0] >= top and s[1] >= left and s[2] <= bottom and s[3] <= right
        assert len(found.indices) == 9 and np.all(np.diff(found.values) <= 0)
        assert found.patches.shape[1:3] == (14, 14)      # cut at the field
        with qtbot.waitSignal(panel.imageChosen, timeout=5000) as chosen:
            panel.choose_patch(0)
        assert chosen.args[0].shape == (16, 16, 1) and "top patch 1" in chosen.args[1]
    finally:
        panel.close_panel()


def test_the_recorded_predictions_are_the_models_and_the_galleries_count_the_flips(qtbot,
                                                                                  lenet_run):
    from cnnstudio.core.datasets import load_dataset
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.training.rundir import RunDir

    store = wc.PredictionStore(lenet_run)
    assert store.epochs() == [1, 2]
    meta = store.meta()
    dataset = load_dataset(RunDir.open(lenet_run).config().dataset)
    x, y, _ = wc.test_images(dataset, meta["indices"])
    model = load_model_file(lenet_run / "model.keras")            # the epoch-2 weights
    expected = np.asarray(model(x.astype(np.float32), training=False)).argmax(axis=1)
    assert store.load(2).predicted.tolist() == expected.tolist()
    assert meta["labels"] == y.tolist() and len(y) == len(dataset.test)

    panel = _panel(qtbot, WhatChangedPanel)
    try:
        with qtbot.waitSignal(panel.updated, timeout=WAIT):
            panel.open_run(lenet_run)
        assert panel.epochs == [1, 2] and panel.chosen() == (1, 2)
        found = wc.compare(lenet_run, 1, 2)
        assert panel.broke.count() == min(len(found.right_to_wrong), 200)
        assert panel.fixed.count() == min(len(found.wrong_to_right), 200)
        assert f"{len(found.wrong_to_right)} wrong → right" in panel.summary.text()
        assert panel.fixed.count() > 0                  # epoch 2 fixes some of epoch 1's
        with qtbot.waitSignal(panel.imageChosen, timeout=5000) as chosen:
            panel.fixed.click(0)
        i = int(found.wrong_to_right[0])
        assert np.array_equal(chosen.args[0], x[i])
    finally:
        panel.close_panel()


def test_a_run_without_records_compares_its_checkpoints(qtbot, lenet_run, tmp_path):
    copy = shutil.copytree(lenet_run, tmp_path / lenet_run.name)
    kept = {e: wc.PredictionStore(copy).load(e).predicted for e in (1, 2)}
    for path in (copy / "probes").glob("predictions-*"):
        path.unlink()
    assert wc.available_epochs(copy) == [1, 2]           # the two kept checkpoints
    panel = _panel(qtbot, WhatChangedPanel)
    try:
        with qtbot.waitSignal(panel.updated, timeout=WAIT):
            panel.open_run(copy)
        for epoch in (1, 2):                               # the same answers, from the files
            assert wc.PredictionStore(copy).load(epoch).predicted.tolist() == \
                kept[epoch].tolist()
    finally:
        panel.close_panel()


def test_the_projector_draws_the_test_set_and_the_lasso_gathers_its_points(qtbot, lenet_run):
    panel = _panel(qtbot, ProjectorPanel)
    try:
        with qtbot.waitSignal(panel.updated, timeout=WAIT):
            panel.open_run(lenet_run)
        xy = panel.projection
        n = len(panel.data["labels"])
        assert xy.shape == (n, 2) and panel.data["feats"].shape == (n, 84)   # LeNet's f6
        assert "PCA of 84 features" in panel.status.text()
        # A rectangle round the left half of the points, as a drag would leave it.
        (x_lo, y_lo), y_hi = xy.min(0) - 1, float(xy[:, 1].max()) + 1
        mid = float(np.median(xy[:, 0]))
        box = [(x_lo, y_lo), (mid, y_lo), (mid, y_hi), (x_lo, y_hi)]
        with qtbot.waitSignal(panel.selectionChanged, timeout=5000):
            selected = panel.lasso(box)
        assert selected.tolist() == np.flatnonzero(xy[:, 0] < mid).tolist()
        assert np.allclose(panel.polygon(), box)
        assert panel.gallery.count() == min(len(selected), 300)
        assert f"{len(selected)} images in the lasso" in panel.gallery.header.text()
        panel.colour_box.setCurrentIndex(2)                 # thumbnails
        assert len(panel.thumbs) == min(n, 500)
        with qtbot.waitSignal(panel.imageChosen, timeout=5000) as chosen:
            panel.gallery.click(0)
        assert np.array_equal(chosen.args[0], panel.data["images"][selected[0]])
        panel.clear_lasso()
        assert panel.gallery.count() == 0 and panel.roi is None
        assert panel.method_box.count() == len(projector.methods())
    finally:
        panel.close_panel()


def test_a_mouse_drag_with_lasso_on_draws_the_lasso(qtbot):
    import pyqtgraph as pg
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    rate = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOption("mouseRateLimit", -1)            # synthetic moves come all at once
    panel = _panel(qtbot, ProjectorPanel)
    try:
        panel.resize(800, 600)
        panel.show()
        qtbot.waitExposed(panel)
        rng = np.random.default_rng(0)
        panel.projection = rng.uniform(0, 10, (60, 2)).astype(np.float32)
        panel.data = {"labels": np.zeros(60, int), "names": ["a"], "probs": np.ones((60, 1)),
                      "images": np.zeros((60, 8, 8, 1), np.uint8), "feats": None}
        panel.draw()
        panel.view.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
        panel.lasso_button.setChecked(True)
        port = panel.plot.viewport()

        def send(kind, x, y, buttons):
            at = panel.plot.mapFromScene(panel.view.mapViewToScene(QPointF(x, y)))
            QApplication.sendEvent(port, QMouseEvent(kind, QPointF(at), QPointF(
                port.mapToGlobal(at)), Qt.LeftButton, buttons, Qt.NoModifier))

        send(QEvent.MouseButtonPress, 2, 2, Qt.LeftButton)
        for x, y in ((8, 2), (8, 8), (2, 8)):
            send(QEvent.MouseMove, x, y, Qt.LeftButton)
        with qtbot.waitSignal(panel.selectionChanged, timeout=5000):
            send(QEvent.MouseButtonRelease, 2, 8, Qt.NoButton)
        inside = np.flatnonzero(((panel.projection > 2) & (panel.projection < 8)).all(axis=1))
        assert panel.selected.tolist() == inside.tolist() and len(inside) > 5
        assert panel.roi is not None and len(panel.polygon()) >= 4
    finally:
        pg.setConfigOption("mouseRateLimit", rate)
        panel.close_panel()
