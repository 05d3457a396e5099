"""Every insight panel renders for a tiny trained run; the links between them work.

Set CNNSTUDIO_SCREENSHOTS=docs/screenshots to save a picture of each panel.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from cnnstudio.core.config import RunConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.probes.confusion import SplitPredictions, cell_indices, error_order
from cnnstudio.core.training.engine import run
from cnnstudio.gui.families.classification.insight_activation_max import ActivationMaxPanel
from cnnstudio.gui.families.classification.insight_confusion import ConfusionPanel
from cnnstudio.gui.families.classification.insight_epochs import EpochSliderPanel
from cnnstudio.gui.families.classification.insight_errors import ErrorGalleryPanel
from cnnstudio.gui.families.classification.insight_feature_maps import FeatureMapsPanel
from cnnstudio.gui.families.classification.insight_filters import FiltersPanel
from cnnstudio.gui.families.classification.insight_gradcam import GradCamPanel

WAIT = 30_000


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """LeNet-5 on 16×16 digits, 3 epochs, probes recorded each epoch (~10 s)."""
    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 16}
    config.training.epochs, config.training.batch_size = 3, 32
    dataset = load_dataset(config.dataset)
    run_dir = tmp_path_factory.mktemp("insight") / "run"
    assert run(config, run_dir=run_dir).status == "finished"     # the engine records probes
    return run_dir, dataset


def shoot(widget, name: str) -> None:
    folder = os.environ.get("CNNSTUDIO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / f"insight-{name}.png"))


def open_panel(qtbot, cls, size=(760, 520)):
    panel = cls()
    qtbot.addWidget(panel)        # closed at teardown: its model thread is joined
    panel.resize(*size)
    panel.show()
    return panel


@pytest.mark.slow
def test_filters_panel(qtbot, trained_run):
    run_dir, _ = trained_run
    panel = open_panel(qtbot, FiltersPanel)
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.set_run(run_dir)
    assert panel.layer_box.count() == 2
    assert "c1: 6 filters of 5×5×1" in panel.mosaic.title.text
    first = panel.mosaic.image.copy()
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.layer_box.setCurrentText("c3")
    assert "16 filters of 5×5×6" in panel.mosaic.title.text
    shoot(panel, "filters")
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.mode_box.setCurrentIndex(4)          # every input channel
    assert panel.view.tiles.shape[0] == 16 * 6 and first.shape != panel.mosaic.image.shape
    with qtbot.waitSignal(panel.filterClicked, timeout=WAIT) as blocker:
        panel._tile_clicked(13)                     # row 2 of the "all" grid = filter 2
    assert blocker.args == ["c3", 2]


def test_feature_maps_panel(qtbot, trained_run):
    run_dir, dataset = trained_run
    panel = open_panel(qtbot, FeatureMapsPanel, (900, 640))
    panel.set_run(run_dir)
    image = dataset.test.images([3])[0][0]
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.set_image(image, "test #3")
    assert panel.grid.title.text == "c1: 6 channels of 16×16"
    assert [v.title.text for v in panel.strip_views] == ["c1", "s2", "c3", "s4"]
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.layer_box.setCurrentText("c3")
    assert panel.grid.title.text == "c3: 16 channels of 4×4"
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.layer_box.setCurrentText("c1")
    shoot(panel, "feature-maps")


def test_gradcam_panel(qtbot, trained_run):
    run_dir, dataset = trained_run
    panel = open_panel(qtbot, GradCamPanel, (760, 460))
    panel.set_run(run_dir)
    image = dataset.test.images([0])[0][0]
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.set_image(image, "test #0 · true 0")
    assert panel.result.method == "grad-cam" and panel.result.layer == "c3"
    assert panel.class_box.count() == 11
    before = panel.heat.image.copy()
    with qtbot.waitSignal(panel.updated, timeout=1000):   # blending only, no recompute
        panel.opacity.setValue(90)
    assert not np.array_equal(before, panel.heat.image)
    shoot(panel, "gradcam")
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.set_class(7)
    assert panel.result.class_index == 7
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.method_box.setCurrentIndex(1)
    assert panel.result.method == "saliency"


def test_activation_max_panel_runs_and_cancels(qtbot, trained_run):
    run_dir, _ = trained_run
    panel = open_panel(qtbot, ActivationMaxPanel, (760, 420))
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.set_run(run_dir)
    panel.choose("c3", 4)
    panel.steps_box.setValue(24)
    with qtbot.waitSignal(panel.finished, timeout=WAIT) as blocker:
        panel.start()
    result = blocker.args[0]
    assert (result.layer, result.filter_index) == ("c3", 4)
    assert panel.progress.value() == 24 and panel.run_button.isEnabled()
    assert result.activations[-1] > result.activations[0]
    shoot(panel, "activation-max")
    panel.steps_box.setValue(1000)
    with qtbot.waitSignal(panel.cancelled, timeout=WAIT):
        panel.start()
        qtbot.waitUntil(lambda: panel.progress.value() >= 2, timeout=WAIT)
        panel.cancel()
    assert panel.progress.value() < 1000 and panel.status.text() == "Cancelled."


def test_clicking_a_confusion_cell_shows_exactly_its_images(qtbot, trained_run):
    run_dir, _ = trained_run
    panel = open_panel(qtbot, ConfusionPanel, (860, 700))
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.set_run(run_dir)
    expected = SplitPredictions.for_run(run_dir)       # an independent prediction
    cm = expected.confusion()
    assert np.array_equal(panel.cm, cm) and cm.sum() == 360
    # The busiest off-diagonal cell (or the diagonal's first if the net is perfect).
    off = cm - np.diag(np.diag(cm))
    t, q = np.unravel_index(np.argmax(off), cm.shape) if off.any() else (0, 0)
    view = panel.plot.getViewBox()
    scene = view.mapViewToScene(QPointF(q + 0.5, t + 0.5))
    point = panel.plot.mapFromScene(scene)
    with qtbot.waitSignal(panel.cellSelected, timeout=WAIT) as blocker:
        qtbot.mouseClick(panel.plot.viewport(), Qt.LeftButton, pos=point)
    want = cell_indices(expected.y_true, expected.y_pred, t, q)
    assert blocker.args[:2] == [t, q]
    assert panel.gallery.indices == want.tolist() and panel.gallery.count() == cm[t, q]
    shoot(panel, "confusion")
    with qtbot.waitSignal(panel.imageActivated, timeout=WAIT) as shown:
        panel.gallery.click(0)
    np.testing.assert_array_equal(shown.args[0], expected.images[want[0]])
    assert f"test #{want[0]}" in shown.args[1]


def test_error_gallery_is_worst_first(qtbot, trained_run):
    run_dir, _ = trained_run
    panel = open_panel(qtbot, ErrorGalleryPanel, (760, 480))
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.set_run(run_dir)
    expected = SplitPredictions.for_run(run_dir)
    order = error_order(expected.y_true, expected.probs)
    assert panel.gallery.indices == order[:200].tolist() and len(order) > 0
    assert "misclassified" in panel.gallery.header.text()
    shoot(panel, "errors")


def test_epoch_slider_shows_different_filters_at_first_and_last_epoch(qtbot, trained_run):
    run_dir, _ = trained_run
    panel = open_panel(qtbot, EpochSliderPanel, (900, 560))
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.set_run(run_dir)               # opened from disk alone
    assert panel.epochs == [1, 2, 3] and panel.current.epoch == 3
    last = panel.filters.image.copy()
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.slider.setValue(0)
    assert panel.current.epoch == 1 and "epoch 1" in panel.filters.title.text
    assert panel.filters.image.shape == last.shape
    assert not np.array_equal(panel.filters.image, last)
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.gallery.click(4)
    assert "probe 4" in panel.maps.caption.text
    with qtbot.waitSignal(panel.updated, timeout=WAIT):
        panel.slider.setValue(2)
    shoot(panel, "epochs")
