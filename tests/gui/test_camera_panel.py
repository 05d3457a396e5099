"""The Camera tab (issue 28, section 2) without a camera: a video file the test writes and
C1's generated digits. Live predictions name the digit of the video; a slow model drops
frames instead of queueing them; Grad-CAM changes the painted pixels; holding a class's
button records PNGs and its count grows; Train points the window at the capture folder and
its run then predicts live; stopping, a source that ends and closing leave nothing running."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QRect, QSettings, Qt

from cnnstudio.core.camera import GeneratedSource, VideoFileSource, record_frames
from cnnstudio.core.config import DatasetConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.predict import Predictor
from cnnstudio.core.training import engine
from cnnstudio.gui.camera import capture_training
from cnnstudio.gui.camera.camera_panel import PANEL_ID, CameraPanel
from cnnstudio.gui.camera.screen_source import ScreenRegionSource, qimage_to_rgb
from cnnstudio.gui.registry import PANELS
from tests.gui.conftest import tiny_config

pytest.importorskip("tensorflow")

SHOTS = Path(os.environ.get("CNNSTUDIO_CAMERA_SHOTS", "")) if os.environ.get(
    "CNNSTUDIO_CAMERA_SHOTS") else None
OUR_THREADS = ("frame-grabber", "camera-predict", "camera-open", "camera-record")


def our_threads() -> list[str]:
    return [t.name for t in threading.enumerate()
            if t.is_alive() and t.name.startswith(OUR_THREADS)]


@pytest.fixture(scope="module")
def digit_run(tmp_path_factory):
    """LeNet-5 on scikit-learn's digits at 16×16 (a few seconds; ~88 % test accuracy)."""
    root = tmp_path_factory.mktemp("camera-runs")
    config = tiny_config(epochs=4, model="lenet5", model_options={}, batch_size=32)
    return engine.run(config, runs_root=root).run_dir


@pytest.fixture(scope="module")
def digit_video(digit_run, tmp_path_factory):
    """(video path, its digit): a test digit the run gets right, enlarged to 160×160 RGB,
    written losslessly (FFV1) for 12 frames; chosen by the run's own Predictor on the frame
    as read back from the file, so the live path must give the same, right answer."""
    data = load_dataset(DatasetConfig("digits", {"size": 16}))
    predictor = Predictor.from_run(digit_run)
    path = tmp_path_factory.mktemp("camera-video") / "digit.avi"
    for image, label in zip(data.test.x, data.test.y, strict=True):
        big = cv2.resize(image[:, :, 0], (160, 160), interpolation=cv2.INTER_NEAREST)
        frame = np.repeat(big[:, :, None], 3, axis=2)
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 15, (160, 160))
        for _ in range(12):
            writer.write(frame[:, :, ::-1])
        writer.release()
        source = VideoFileSource(path, loop=False, realtime=False)
        read_back = source.read()
        source.close()
        name = data.class_names[int(label)]
        if predictor.top_k(read_back, 1)[0][0] == name:
            return path, name
    pytest.fail("the tiny run gets no test digit right")


@pytest.fixture
def panel(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    widget = CameraPanel(SimpleNamespace(settings=settings))
    widget.resize(1100, 700)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.close_panel()
    assert widget.session is None
    assert our_threads() == []


def wait_answers(qtbot, panel, n: int = 3, timeout: int = 30_000) -> None:
    start = panel.shown_answers
    qtbot.waitUntil(lambda: panel.shown_answers >= start + n, timeout=timeout)


def pixels(widget) -> np.ndarray:
    """What the widget paints, as RGB (H, W, 3)."""
    return qimage_to_rgb(widget.grab().toImage())


def test_the_tab_serves_classifier_runs():
    spec = PANELS.get(PANEL_ID)
    assert spec.title == "Camera"
    assert spec.tasks == frozenset({"classification", "transfer", "from-run"})
    assert spec.hooks and spec.screenshot is None


@pytest.mark.slow
def test_live_predictions_name_the_digit_in_a_video(panel, qtbot, digit_run, digit_video):
    path, digit = digit_video
    panel.set_run(digit_run)
    panel.start(("video", str(path)))
    wait_answers(qtbot, panel)
    assert panel.bars.rows[0][0] == digit
    assert panel.live_view.caption.startswith(f"{digit} ")
    assert panel.model_view.frame.shape == (16, 16, 1)          # as the model sees it
    assert panel.live_view.frame.shape == (160, 160, 3)
    assert panel.chooser.currentText() == "Video: digit.avi"
    assert "latency" in panel.readout.text() and "model" in panel.readout.text()
    assert panel.model_line.text() == f"Model: run {digit_run.name}"
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        panel.grab().save(str(SHOTS / "camera-video.png"))
    with qtbot.waitSignal(panel.stopped):
        panel.stop_button.click()
    assert panel.status.text() == "Stopped."
    assert our_threads() == []


class SlowPredictor:
    """A model that needs 60 ms a frame: slower than the 60 fps source."""
    gradcam = False

    def __init__(self):
        self.seen: list[int] = []
        self._pause = threading.Event()

    def predict(self, frame):
        self._pause.wait(0.06)             # the model's own time, on its thread
        return SimpleNamespace(top=[("slow", 1.0)], model_input=frame[::8, ::8],
                               heatmap=None, seconds=0.06, steps=[])


def test_a_slow_model_drops_frames_instead_of_queueing_them(panel, qtbot, tmp_path):
    slow = SlowPredictor()
    panel.load_predictor = lambda run_dir: slow
    panel.set_run(tmp_path)
    panel.start(source=GeneratedSource(320, 240, fps=60, seed=1))
    wait_answers(qtbot, panel, 8)
    session = panel.session
    assert session.dropped > session.predicted            # ~3 of 4 frames never predicted
    assert session.predicted + session.dropped <= session.grabber.captured
    shown = re.search(r"dropped (\d+) \((\d+)%\)", panel.readout.text())
    assert shown and int(shown.group(1)) > 0 and int(shown.group(2)) > 30
    # Never behind: the latency of what is shown stays about one prediction, not a backlog.
    assert float(np.median(panel.latencies)) < 0.5


@pytest.mark.slow
def test_gradcam_overlay_changes_the_painted_pixels(panel, qtbot, digit_run, digit_video):
    path, _ = digit_video
    panel.set_run(digit_run)
    panel.start(("video", str(path)))
    wait_answers(qtbot, panel)
    plain = pixels(panel.model_view)
    panel.gradcam_box.setChecked(True)
    qtbot.waitUntil(lambda: panel.model_view.heatmap is not None, timeout=30_000)
    wait_answers(qtbot, panel, 1)
    heat = pixels(panel.model_view)
    assert plain.shape == heat.shape
    changed = np.abs(plain.astype(int) - heat.astype(int)).max(axis=2) > 30
    assert changed.mean() > 0.3                      # the colour map covers the digit
    # The heat map is of the whole frame (no photo cropping here): it lies over the frame too.
    assert panel.live_view.heatmap is not None
    panel.gradcam_box.setChecked(False)
    assert np.array_equal(pixels(panel.model_view), plain)


@pytest.mark.slow
def test_holding_a_class_button_records_frames_and_the_count_grows(panel, qtbot, tmp_path):
    capture = panel.capture
    folder = tmp_path / "captures"
    capture.set_folder(folder)
    assert capture.class_names() == ["Class 1", "Class 2"]
    assert capture.rename_class("Class 1", "thumbs up")
    row = capture.rows[0]
    qtbot.mousePress(row.button, Qt.LeftButton)            # starts the camera too
    assert capture.recording == "thumbs up"
    qtbot.waitUntil(lambda: row.count >= 3, timeout=30_000)
    qtbot.mouseRelease(row.button, Qt.LeftButton)
    assert capture.recording is None and not capture._timer.isActive()
    capture.close_panel()                                  # the frames in flight land
    files = sorted((folder / "thumbs up").glob("*.png"))
    assert len(files) == row.count >= 3
    assert files[0].name == "00001.png"
    assert cv2.imread(str(files[0])).shape == (480, 640, 3)   # the generated frames' size
    assert row.count_label.text() == f"{row.count} frames"
    assert not (folder / "Class 2").exists()                # nothing recorded there
    assert not capture.add_class("thumbs up")               # one line, not a second row
    assert capture.add_class("thumbs down")
    assert capture.remove_class("thumbs up")                # its frames are kept, aside
    assert capture.class_names() == ["Class 2", "thumbs down"]
    assert len(list((folder / ".removed" / "thumbs up").glob("*.png"))) == len(files)
    with pytest.raises(Exception, match="at least two classes|has 0 images"):
        capture_training.check_ready(folder, capture.class_names())


@pytest.mark.slow
def test_a_video_that_ends_stops_the_session_with_one_line(panel, qtbot, digit_video):
    path, _ = digit_video
    with qtbot.waitSignal(panel.stopped, timeout=30_000) as stopped:
        panel.start(source=VideoFileSource(path, loop=False, realtime=False))
    assert "has no more frames" in stopped.args[0]
    assert panel.status.text().startswith("Stopped: digit.avi has no more frames")
    assert panel.session is None and not panel._timer.isActive()
    assert our_threads() == []


def test_a_source_that_cannot_open_says_so(panel, qtbot, tmp_path):
    with qtbot.waitSignal(panel.stopped, timeout=10_000) as stopped:
        panel.start(("video", str(tmp_path / "missing.mp4")))
    assert stopped.args[0] == f"video file not found: {tmp_path / 'missing.mp4'}"
    assert panel.status.text().startswith("Cannot open the source: video file not found")
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()


def test_a_screen_region_is_a_frame_source(qtbot):
    source = ScreenRegionSource(QRect(0, 0, 64, 48), fps=20)
    frame = source.read()
    assert frame is not None and frame.shape == (48, 64, 3) and frame.dtype == np.uint8
    assert source.grabs >= 1 and source.name == "Screen 64×48 at (0, 0)"
    source.close()
    assert source.read() is None and not source._timer.isActive()


@pytest.mark.slow
def test_train_points_the_window_at_the_capture_folder_and_then_predicts_live(
        studio, qtbot, tmp_path):
    folder = tmp_path / "captures"
    # Two classes the generated source can tell apart: digits on cards, and bare texture.
    for name, digits in (("cards", True), ("texture", False)):
        source = GeneratedSource(96, 72, fps=30, seed=3, digits=digits, realtime=False)
        record_frames([source.read() for _ in range(6)], folder, name)
    studio.tabs.set_task("classification")
    panel = studio.tabs.panel(PANEL_ID)
    assert "Camera" in studio.tabs.tab_titles()
    studio.tabs.show_panel(panel)
    panel.capture.set_folder(folder)
    assert panel.capture.counts() == {"cards": 6, "texture": 6}
    panel.train_overrides = {"epochs": 1}
    with qtbot.waitSignal(studio.bridge.finished, timeout=120_000):
        panel.capture.train_button.click()
    config = studio.run_config()
    assert config.dataset.id == "folder"
    assert Path(config.dataset.options["path"]) == folder
    expected = "transfer" if capture_training.mobilenet_side() else "lenet5"
    assert config.model.id == expected
    run_dir = Path(studio.bridge.run_dir)
    assert run_dir.parent == studio.runs_root
    fresh = studio.tabs.panel(PANEL_ID)                    # the tab of the new subject
    assert studio.tabs.current_panel() is fresh
    assert fresh.capture.folder == folder and fresh.capture.class_names() == ["cards", "texture"]
    qtbot.waitUntil(lambda: fresh.run_dir == run_dir, timeout=30_000)
    fresh.start(("generated",))
    wait_answers(qtbot, fresh, 2)
    assert fresh.bars.rows[0][0] in ("cards", "texture")
    assert fresh.model_view.frame.shape == (64, 64, 3)
    if SHOTS:
        studio.resize(1760, 1000)
        fresh.gradcam_box.setChecked(True)
        qtbot.waitUntil(lambda: fresh.model_view.heatmap is not None, timeout=30_000)
        wait_answers(qtbot, fresh, 2)
        fresh.grab().save(str(SHOTS / "camera.png"))
        studio.grab().save(str(SHOTS / "camera-window.png"))
    studio.close()                                          # with the camera running
    assert fresh.session is None and not fresh._timer.isActive()
    assert our_threads() == []
