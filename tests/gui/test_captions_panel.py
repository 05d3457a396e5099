"""The captions tab and the "caption" prediction view, on a tiny real captioner run."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.families.attention import shape_scenes as sc
from cnnstudio.core.families.attention.caption_probes import PROBE_NAME, CaptionStore
from cnnstudio.gui.families.attention.caption_prediction_view import CaptionPredictionView
from cnnstudio.gui.families.attention.captions_panel import CaptionsPanel
from cnnstudio.gui.registry import PANELS, PREDICTION_VIEWS, call

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def caption_run(tmp_path_factory):
    """A run folder as the engine leaves it, without the training: a tiny captioner's probes
    for epochs 1 and 2 (weights nudged in between) and its model.keras."""
    from cnnstudio.core.datasets import load_dataset
    from cnnstudio.core.families.attention.caption_probes import CaptionRecorder
    from cnnstudio.core.families.attention.caption_task import probe_set
    from cnnstudio.core.registry import ARCHITECTURES
    from cnnstudio.core.training.rundir import RunDir

    config = RunConfig(DatasetConfig("shape-scenes", {"limit": 8, "test_count": 12,
                                                      "max_objects": 2}),
                       ModelConfig("captioner", {"filters": 4, "units": 16,
                                                 "attention_units": 8, "embedding": 8}),
                       TrainConfig(epochs=2, validation_split=0.0))
    folder = RunDir.create(config, root=tmp_path_factory.mktemp("caption-runs"))
    model = ARCHITECTURES.get("captioner").build((64, 64, 3), 3, config.model.options)
    recorder = CaptionRecorder(folder.path, probe_set(load_dataset(config.dataset).test))
    rng = np.random.default_rng(0)
    for epoch in (1, 2):
        model.set_weights([w + rng.normal(0, 0.3, w.shape).astype(w.dtype)
                           for w in model.get_weights()])
        recorder(model, epoch)
    model.save(folder.path / "model.keras")
    return folder.path


@pytest.fixture
def panel(qtbot):
    widget = CaptionsPanel(SimpleNamespace(bridge=None))
    qtbot.addWidget(widget)
    yield widget
    widget.close_panel()


def pixels(label) -> np.ndarray:
    image = label.pixmap().toImage()
    return np.array([[image.pixel(x, y) for x in range(0, image.width(), 8)]
                     for y in range(0, image.height(), 8)])


def test_the_tab_serves_captioning_and_the_dock_captions():
    assert PANELS.get("captions").tasks == frozenset({"captioning"})
    assert PREDICTION_VIEWS.get("caption") is CaptionPredictionView


def test_one_attention_map_per_word_and_the_slider_replays_epochs(panel, caption_run):
    panel.open_run(caption_run)
    store = CaptionStore(caption_run)
    assert panel.epochs == [1, 2] and panel.frame.epoch == 2
    assert panel.slider.maximum() == 1 and panel.gallery.count() == 8
    panel.choose_probe(3)
    words = store.load(2).captions[3].split()
    assert panel.strip.words == [*words, "<end>"]             # one tile per word, + <end>
    assert len(panel.strip.tiles) == len(words) + 1
    assert all(not t.soft.pixmap().isNull() and not t.hard.pixmap().isNull()
               for t in panel.strip.tiles)
    assert store.probes().references[3] in panel.texts.text()
    panel.slider.setValue(0)
    assert panel.frame.epoch == 1 and panel.current["caption"] == store.load(1).captions[3]
    assert "1  (of 2)" in panel.epoch_label.text()
    # The opacity slider changes the big soft map, not the hard one.
    panel.strip.select(0)
    soft, hard = pixels(panel.soft_view), pixels(panel.hard_view)
    panel.opacity.setValue(0 if panel.opacity.value() else 100)
    assert not np.array_equal(pixels(panel.soft_view), soft)
    assert np.array_equal(pixels(panel.hard_view), hard)


def test_a_drawn_scene_is_captioned_beside_its_true_caption(panel, caption_run, qtbot):
    panel.open_run(caption_run)
    panel.drawer.set_objects([sc.SceneObject("triangle", "green", "small", 1, 1)])
    with qtbot.waitSignal(panel.updated, timeout=60_000):
        panel.drawer.submit()
    current = panel.current
    assert current["reference"] == "a small green triangle" and current["probe"] is None
    assert len(panel.strip.tiles) == len(current["caption"].split()) + 1
    assert "Reference: a small green triangle" in panel.texts.text()


def test_the_dock_captions_a_dropped_image_of_any_size(qtbot, caption_run):
    view = CaptionPredictionView(SimpleNamespace(bridge=None))
    qtbot.addWidget(view)
    view.set_run_dir(caption_run)
    with qtbot.waitSignal(view.captioned, timeout=60_000):
        view.predict_image(np.full((30, 50), 200, np.uint8), "grey.png")
    assert view.result["image"].shape == (64, 64, 3)
    assert len(view.strip.tiles) == len(view.result["caption"].split()) + 1
    view.models.close()


def probe_event(run_dir, epoch):
    from cnnstudio.core.training.events import ProbeReady

    store = CaptionStore(run_dir)
    return ProbeReady(PROBE_NAME, epoch,
                      payload={"frame": store.load(epoch), "probes": store.probes()})


def test_the_epoch_label_follows_the_live_run(panel, caption_run, tmp_path):
    # Issue 22: "no epochs yet" while epoch 2 trained. The captions of an epoch are written
    # while the next one trains; the label says so, then names the recorded epochs.
    panel.run_started(SimpleNamespace(run_dir=tmp_path / "live", resumed=False))
    assert panel.epoch_label.text() == "no epochs yet"
    panel.epoch_done(SimpleNamespace(epoch=1))
    assert panel.epoch_label.text() == "epoch 1 trained · captioning…"
    panel.probe_ready(probe_event(caption_run, 1))
    assert panel.epochs == [1] and panel.epoch_label.text() == "1  (of 1)"
    panel.epoch_done(SimpleNamespace(epoch=2))
    assert panel.epoch_label.text() == "1  (of 1) · captioning 2…"
    panel.probe_ready(probe_event(caption_run, 2))
    assert panel.epochs == [1, 2] and panel.epoch_label.text() == "2  (of 2)"
    panel.run_started(SimpleNamespace(run_dir=tmp_path / "next", resumed=False))
    assert panel.epoch_label.text() == "no epochs yet" and panel.slider.maximum() == 0


def test_the_shown_hook_takes_in_epochs_on_disk(panel, caption_run):
    # Issue 22: the panel kept its caption in ``self.shown``, so the window's ``shown()``
    # hook raised "TypeError: 'dict' object is not callable".
    panel.run_started(SimpleNamespace(run_dir=caption_run, resumed=False))
    assert panel.epochs == [] and panel.epoch_label.text() == "no epochs yet"
    call(panel, "shown")                                   # as the centre tabs call it
    assert panel.epochs == [1, 2] and panel.epoch_label.text() == "2  (of 2)"
    assert panel.current["probe"] == 0 and panel.gallery.count() == 8
    call(panel, "shown")                                   # a caption on screen: still a hook
    assert panel.epochs == [1, 2]
