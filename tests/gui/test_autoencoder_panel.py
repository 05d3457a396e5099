"""The autoencoder tab and the reconstruction view, fed by a tiny real run: probe strips per
epoch, the compression figure, the code map, image search, and a dropped image rebuilt."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from cnnstudio.core.config import RunConfig
from cnnstudio.core.families.generative import autoencoder_probes as probes
from cnnstudio.core.training import engine
from cnnstudio.core.training.events import ProbeReady, RunStarted
from cnnstudio.gui import registry
from cnnstudio.gui.background import Background
from cnnstudio.gui.families.generative.autoencoder_panel import AutoencoderPanel, as_rgb_unit
from cnnstudio.gui.families.generative.reconstruction_view import ReconstructionView


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory):
    """A denoising autoencoder on 16×16 digits, two epochs: (run_dir, its events)."""
    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 16}
    config.model.id, config.model.options = "conv-autoencoder", {"denoise": True}
    config.training.epochs, config.training.batch_size = 2, 64
    config.training.learning_rate = 0.005
    events = []
    result = engine.run(config, runs_root=tmp_path_factory.mktemp("ae-runs"),
                        sink=events.append)
    assert result.status == "finished"
    return result.run_dir, events


def test_the_panel_and_the_view_register_for_the_autoencoder_task():
    assert [spec.id for spec in registry.panels_for("autoencoder")] == ["autoencoder"]
    assert registry.PREDICTION_VIEWS.get("reconstruct") is ReconstructionView


@pytest.mark.slow
def test_the_panel_fills_its_views_from_a_run_dir(qtbot, ae_run):
    run_dir, _ = ae_run
    panel = AutoencoderPanel()
    qtbot.addWidget(panel)
    panel.open_run(run_dir)
    assert panel.epochs == [1, 2] and panel.current.epoch == 2
    # Three rows (originals, noisy, reconstructions) of ten 16-pixel tiles, 2-pixel gaps.
    strip = panel.strip.image
    assert strip.shape == (3 * 16 + 2 * 2, 10 * 16 + 9 * 2, 3)
    saved = probes.AutoencoderStore(run_dir)
    first = np.round(as_rgb_unit(saved.probes()["images"][:1])[0] * 255)
    np.testing.assert_array_equal(strip[:16, :16], first)
    recon = saved.load(2).reconstructions[0, :, :, 0]
    np.testing.assert_array_equal(strip[36:52, :16, 0], recon)
    assert "256 numbers → code 2×2×8 = 32 numbers (12.5% of the input" in \
        panel.compression.text()
    assert "noisy inputs" in panel.strip.title.text
    # The map: every stored test code, one scatter item per class.
    assert len(panel.scatter) == 10
    assert sum(len(item.points()) for item in panel.scatter) == 360
    # Replay: the slider goes back to epoch 1 and the reconstructions row changes.
    with qtbot.waitSignal(panel.updated):
        panel.slider.setValue(0)
    assert panel.current.epoch == 1 and panel.epoch_label.text().startswith("1")
    np.testing.assert_array_equal(panel.strip.image[36:52, :16, 0],
                                  saved.load(1).reconstructions[0, :, :, 0])


def test_clicking_a_map_point_shows_its_image_and_its_ten_nearest(qtbot, ae_run):
    run_dir, _ = ae_run
    panel = AutoencoderPanel()
    qtbot.addWidget(panel)
    panel.open_run(run_dir)
    item = panel.scatter[3]
    point = item.points()[0]
    index = int(point.data())
    with qtbot.waitSignal(panel.searched):
        item.sigClicked.emit(item, [point], None)
    codes = probes.AutoencoderStore(run_dir).codes()
    order, dist = probes.nearest(codes.codes, codes.codes[index], 10, exclude=index)
    assert panel.gallery.count() == 10 and panel.gallery.indices == order.tolist()
    assert index not in panel.gallery.indices
    assert panel.gallery.list.item(0).text() == f"{codes.labels[order[0]]} · d {dist[0]:.2f}"
    assert np.all(np.diff(panel.neighbours[1]) >= 0)
    assert panel.chosen.image.shape == (16, 16, 3)
    np.testing.assert_array_equal(panel.chosen.image[..., 0], codes.images[index][..., 0])
    # The code as a heat map: eight 2×2 channel tiles, four to a row.
    assert panel.code_view.image.shape == (2 * 2 + 1, 4 * 2 + 3, 3)
    # A result is a new query: clicking it searches again, around that image.
    with qtbot.waitSignal(panel.searched):
        panel.gallery.click(0)
    assert order[0] not in panel.gallery.indices


def test_a_probe_column_searches_with_that_probe(qtbot, ae_run):
    run_dir, _ = ae_run
    panel = AutoencoderPanel()
    qtbot.addWidget(panel)
    panel.open_run(run_dir)
    with qtbot.waitSignal(panel.searched):
        panel.strip.tileClicked.emit(22)         # third row, third column → probe 2
    assert "probe image 3" in panel.chosen.caption.text      # counted from 1, as in every tab
    assert panel.gallery.count() == 10


def test_a_dropped_image_is_encoded_off_the_gui_thread_and_searched(qtbot, ae_run):
    run_dir, _ = ae_run
    panel = AutoencoderPanel()
    qtbot.addWidget(panel)
    panel.open_run(run_dir)
    codes = probes.AutoencoderStore(run_dir).codes()
    image = np.repeat(np.kron(codes.images[5][..., 0], np.ones((3, 3), np.uint8))[..., None],
                      3, axis=2)               # 48×48 RGB: fitted back to 16×16×1
    with qtbot.waitSignal(panel.searched, timeout=60_000):
        panel.set_image(image, "dropped.png")
    assert panel.gallery.count() == 10
    # Its code is that test image's code, so that image comes first, at distance ~0.
    assert panel.gallery.indices[0] == 5 and panel.neighbours[1][0] < 1e-3
    panel.close_panel()


def test_live_probe_events_fill_the_panel_without_the_disk(qtbot, ae_run):
    run_dir, events = ae_run
    panel = AutoencoderPanel()
    qtbot.addWidget(panel)
    started = next(e for e in events if isinstance(e, RunStarted))
    panel.run_started(started)
    assert panel.epochs == [] and panel.live
    ready = [e for e in events if isinstance(e, ProbeReady)]
    panel.probe_ready(ready[0])
    assert panel.epochs == [1] and panel.current.epoch == 1
    panel.probe_ready(ready[1])
    assert panel.epochs == [1, 2] and panel.current.epoch == 2     # follows the newest
    assert sum(len(item.points()) for item in panel.scatter) == 360
    np.testing.assert_array_equal(panel.strip.image[36:52, :16, 0],
                                  ready[1].payload["record"].reconstructions[0, :, :, 0])


@pytest.fixture
def fake_window():
    background = Background()
    background.start()
    window = SimpleNamespace(background=background, bridge=SimpleNamespace(running=False))
    yield window
    background.shutdown()


def test_the_prediction_view_shows_a_denoisers_reconstruction(qtbot, ae_run, fake_window):
    run_dir, _ = ae_run
    view = ReconstructionView(fake_window)
    qtbot.addWidget(view)
    view.set_run_dir(run_dir)
    image = probes.AutoencoderStore(run_dir).codes().images[0]
    with qtbot.waitSignal(view.shown, timeout=60_000):
        view.predict_image(image, "seven.png")
    out = view.result
    assert set(out) == {"input", "steps", "code", "reconstruction", "noisy", "denoised"}
    assert out["denoised"].shape == out["input"].shape == (16, 16, 1)
    assert not view.wells["denoised"].isHidden() and not view.wells["noisy"].isHidden()
    assert view.wells["reconstruction"].pixmap().width() == 116
    expected = probes.psnr(probes.to_unit(out["input"]), probes.to_unit(out["denoised"]))
    assert view.captions["denoised"].text() == f"Denoised: PSNR {expected:.1f} dB"
    assert "squeezed into 32 numbers" in view.hint.text()


def test_the_prediction_view_says_when_there_is_no_model(qtbot, fake_window):
    view = ReconstructionView(fake_window)
    qtbot.addWidget(view)
    view.predict_image(np.zeros((8, 8, 1), np.uint8), "blank.png")
    assert not view.error.isHidden()
    assert view.error.text().startswith("No model yet")


def test_a_resumed_live_run_shows_its_earlier_epochs_from_disk(qtbot, ae_run):
    run_dir, events = ae_run
    panel = AutoencoderPanel()
    qtbot.addWidget(panel)
    started = next(e for e in events if isinstance(e, RunStarted))
    panel.run_started(SimpleNamespace(**{**vars(started), "resumed": True}))
    assert panel.live and panel.epochs == [1, 2] and panel.codes is not None
