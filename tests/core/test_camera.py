"""The camera core (cnnstudio/core/camera): generated and video-file sources, the grabber that
keeps only the newest frame, live prediction with a trained run, and frame capture — no camera
needed."""

from __future__ import annotations

import json
import shutil
import threading
import time

import cv2
import numpy as np
import pytest
from PIL import Image

from cnnstudio.core.camera import (
    CameraInfo,
    CameraSource,
    FrameGrabber,
    FrameSource,
    GeneratedSource,
    LivePredictor,
    VideoFileSource,
    list_cameras,
    record_frames,
)
from cnnstudio.core.camera.live import working_frame
from cnnstudio.core.errors import StudioError

# ---------------------------------------------------------------- generated frames


def test_generated_frames_are_rgb_uint8_and_the_same_for_a_seed():
    a, b = GeneratedSource(seed=3, realtime=False), GeneratedSource(seed=3, realtime=False)
    frames_a = [a.read() for _ in range(5)]
    frames_b = [b.read() for _ in range(5)]
    assert isinstance(a, FrameSource)
    assert frames_a[0].shape == (480, 640, 3) and frames_a[0].dtype == np.uint8
    assert all(np.array_equal(x, y) for x, y in zip(frames_a, frames_b, strict=True))
    assert not np.array_equal(frames_a[0], frames_a[1])          # it moves
    assert np.array_equal(a.frame(2), frames_a[2])              # frame n is a function of n
    other = GeneratedSource(seed=4, realtime=False).read()
    assert not np.array_equal(other, frames_a[0])
    assert len(a.labels) == 3 and all(0 <= d <= 9 for d in a.labels)
    # White cards with dark MNIST ink on them: both extremes are in the frame.
    assert frames_a[0].max() >= 250 and frames_a[0].min() <= 40


def test_generated_frames_without_digits_and_at_other_sizes():
    source = GeneratedSource(160, 120, digits=False, realtime=False)
    frame = source.read()
    assert frame.shape == (120, 160, 3) and source.labels == []
    assert frame.max() < 250                     # texture only, no white card
    source.close()
    assert source.read() is None and source.ended
    with pytest.raises(StudioError, match="frame rate above 0"):
        GeneratedSource(fps=0)


def test_generated_frames_are_paced_at_their_fps():
    source = GeneratedSource(64, 48, fps=50)
    start = time.perf_counter()
    for _ in range(11):                          # the first at once, then ten 20 ms apart
        source.read()
    paced = time.perf_counter() - start
    fast = GeneratedSource(64, 48, fps=50, realtime=False)
    start = time.perf_counter()
    for _ in range(11):
        fast.read()
    assert 0.19 <= paced < 0.6
    assert time.perf_counter() - start < 0.1


# ---------------------------------------------------------------- video files


def _write_video(path, count=12, fps=25.0, size=(64, 48)):
    """Grey frames of brightness 20·i, so each frame read back says which it is."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for i in range(count):
        writer.write(np.full((size[1], size[0], 3), 20 * i, np.uint8))
    writer.release()
    return [20 * i for i in range(count)]


def test_a_video_file_reads_back_its_frames_then_ends(tmp_path):
    levels = _write_video(tmp_path / "clip.avi")
    source = VideoFileSource(tmp_path / "clip.avi", loop=False, realtime=False)
    assert source.name == "clip.avi" and source.fps == pytest.approx(25.0)
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    assert len(frames) == len(levels) and source.ended
    assert frames[0].shape == (48, 64, 3) and frames[0].dtype == np.uint8
    assert [round(float(f.mean())) for f in frames] == pytest.approx(levels, abs=4)
    source.close()


def test_a_looping_video_starts_again_and_realtime_paces_to_its_fps(tmp_path):
    _write_video(tmp_path / "clip.avi", count=5, fps=50.0)
    source = VideoFileSource(tmp_path / "clip.avi", loop=True, realtime=True)
    start = time.perf_counter()
    frames = [source.read() for _ in range(12)]
    elapsed = time.perf_counter() - start
    means = [round(float(f.mean())) for f in frames]
    assert means[5] == pytest.approx(means[0], abs=4)       # frame 6 is the first again
    assert means[11] == pytest.approx(means[1], abs=4)
    assert 0.2 <= elapsed < 0.8                               # 11 gaps of 20 ms
    source.close()
    assert source.read() is None


def test_a_missing_or_damaged_video_file_says_so(tmp_path):
    with pytest.raises(StudioError, match=r"^video file not found: .*nothing\.mp4$"):
        VideoFileSource(tmp_path / "nothing.mp4")
    bad = tmp_path / "broken.avi"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, np.uint8).tobytes())
    with pytest.raises(StudioError, match=r"^cannot read video file broken\.avi: not a video"):
        VideoFileSource(bad)


def test_cameras_are_probed_quietly_and_a_bad_index_says_so(capfd):
    found = list_cameras(max_index=3)
    assert all(isinstance(c, CameraInfo) for c in found)
    with pytest.raises(StudioError, match="^camera 97 cannot be opened"):
        CameraSource(97)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


# ---------------------------------------------------------------- the grabber


class StepSource:
    """A source that gives frame k (all pixels k) only when the test releases one."""

    name, fps = "steps", None

    def __init__(self, stop_after: int | None = None):
        self.released = threading.Semaphore(0)
        self.count = 0
        self.stop_after = stop_after
        self.ended = False
        self.closed = False

    def read(self):
        if self.stop_after is not None and self.count >= self.stop_after:
            self.ended = True
            return None
        if not self.released.acquire(timeout=0.02):
            return None
        frame = np.full((4, 4, 3), self.count, np.uint8)
        self.count += 1
        return frame

    def close(self):
        self.closed = True


def _until(condition, timeout=3.0):
    done = threading.Event()
    deadline = time.perf_counter() + timeout
    while not condition():
        assert time.perf_counter() < deadline, "timed out"
        done.wait(0.002)


def test_the_grabber_keeps_the_newest_frame_and_counts_what_nobody_took():
    source = StepSource()
    grabber = FrameGrabber(source).start()
    try:
        for _ in range(5):                   # five frames, nobody reading: four dropped
            source.released.release()
        _until(lambda: grabber.captured == 5)
        frame, frame_id, t = grabber.latest()
        assert (frame_id, int(frame[0, 0, 0]), grabber.dropped) == (4, 4, 4)
        assert t <= time.perf_counter()
        source.released.release()           # the taken one is not dropped when replaced
        got = grabber.wait(after_id=4, timeout=2)
        assert got[1] == 5 and grabber.dropped == 4
        for _ in range(3):                  # a slow consumer: two of three go unseen
            source.released.release()
        _until(lambda: grabber.captured == 9)
        assert grabber.wait(after_id=5)[1] == 8 and grabber.dropped == 6
        assert grabber.wait(after_id=8, timeout=0.05) is None     # nothing newer yet
    finally:
        grabber.stop()
    assert source.closed and not grabber.running


def test_the_grabber_ends_with_its_source_and_reports_a_failure():
    source = StepSource(stop_after=2)
    source.released.release()
    source.released.release()
    grabber = FrameGrabber(source).start()
    _until(lambda: grabber.ended)
    assert grabber.captured == 2 and grabber.wait(after_id=1, timeout=2) is None

    class Unplugged(StepSource):
        def read(self):
            raise OSError("device disconnected")

    failing = FrameGrabber(Unplugged()).start()
    _until(lambda: failing.ended)
    assert failing.error == "steps: device disconnected"
    grabber.stop()
    failing.stop()


def test_a_paced_source_behind_a_slow_consumer_drops_frames():
    grabber = FrameGrabber(GeneratedSource(64, 48, fps=100)).start()
    try:
        last, seen = -1, 0
        for _ in range(5):
            got = grabber.wait(after_id=last, timeout=2)
            last, seen = got[1], seen + 1
            threading.Event().wait(0.05)     # a 50 ms model on a 10 ms camera
    finally:
        grabber.stop()
    assert grabber.dropped >= 5
    # Every frame was dropped, taken, or is the one still held.
    assert grabber.captured - grabber.dropped in (seen, seen + 1)


# ---------------------------------------------------------------- live prediction


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    """A LeNet-5 trained one epoch (7 batches) on scikit-learn's digits at 28×28."""
    from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
    from cnnstudio.core.training import engine

    config = RunConfig(DatasetConfig("digits", {"size": 28}), ModelConfig("lenet5", {}),
                       TrainConfig(epochs=1, batch_size=256))
    result = engine.run(config, runs_root=tmp_path_factory.mktemp("runs"))
    assert result.status == "finished"
    return result.run_dir


@pytest.fixture(scope="module")
def predictors(lenet_run):
    from cnnstudio.core.predict import Predictor

    return LivePredictor(lenet_run, gradcam=False), Predictor.from_run(lenet_run)


@pytest.mark.slow
def test_live_prediction_is_cnnstudio_predicts_answer(predictors):
    live, predictor = predictors
    source = GeneratedSource(320, 240, seed=5, realtime=False)     # no reduction at 320×240
    for n in (0, 7, 40):
        frame = source.frame(n)
        result = live.predict(frame)
        prepared, steps, top, _ = predictor.answer(frame)
        assert result.top[0][0] == top[0][0]
        assert result.top[0][1] == pytest.approx(top[0][1], rel=1e-4)
        assert np.array_equal(result.model_input, prepared) and result.steps == steps
        assert result.model_input.shape == (28, 28, 1) and result.model_input.dtype == np.uint8
        assert result.heatmap is None and 0 < result.seconds < 5
    assert [c for c, _ in live.predict(frame).top] == [c for c, _ in top]   # top-5, in order


def test_a_large_frame_is_reduced_before_it_is_prepared(predictors):
    live, predictor = predictors
    frame = GeneratedSource(seed=2, realtime=False).read()          # 640×480
    reduced = working_frame(frame, live.input_shape)
    assert reduced.shape == (240, 320, 3)
    assert working_frame(reduced, live.input_shape) is reduced
    result = live.predict(frame)
    assert np.array_equal(result.model_input, predictor.prepare(reduced))
    assert result.top[0][0] == predictor.top_k(reduced, 1)[0][0]


def test_grad_cam_comes_with_the_prediction(lenet_run, predictors):
    _, predictor = predictors
    live = LivePredictor(lenet_run, gradcam=True, k=3)
    frame = GeneratedSource(320, 240, seed=1, realtime=False).frame(3)
    result = live.predict(frame)
    assert result.heatmap.shape == (28, 28) and result.heatmap.dtype == np.float32
    assert result.heatmap.min() >= 0 and result.heatmap.max() == pytest.approx(1.0)
    assert len(result.top) == 3 and live.gradcam_error is None
    assert result.top[0][0] == predictor.answer(frame)[2][0][0]


def test_a_model_and_its_preprocessing_can_be_given_directly(predictors):
    live, predictor = predictors
    names = [f"digit {c}" for c in predictor.class_names]
    direct = LivePredictor((predictor.model, lambda im: np.full((28, 28, 1), 0, np.uint8),
                            names), k=2)
    blank = direct.predict(np.zeros((10, 10, 3), np.uint8))
    expected = live._forward(np.zeros((1, 28, 28, 1), np.float32))[0]
    assert blank.top[0] == (names[int(expected.argmax())], pytest.approx(expected.max()))
    with pytest.raises(StudioError, match="a run folder or"):
        LivePredictor(42)


def test_grad_cam_on_a_model_without_convolutions_is_off_with_the_reason():
    from cnnstudio.core.registry import ARCHITECTURES

    mlp = ARCHITECTURES.get("mlp").build((8, 8, 1), 3, {"units": 4, "hidden_layers": 1})
    live = LivePredictor((mlp, None, ["a", "b", "c"]), gradcam=True)
    result = live.predict(np.zeros((16, 16, 3), np.uint8))
    assert result.heatmap is None and len(result.top) == 3
    assert "no convolution layer" in live.gradcam_error


def test_a_run_that_is_not_a_classifier_says_so(lenet_run, tmp_path):
    fake = tmp_path / "autoencoder-run"
    shutil.copytree(lenet_run, fake)
    config = json.loads((fake / "config.json").read_text())
    config["model"]["id"] = "conv-autoencoder"
    (fake / "config.json").write_text(json.dumps(config))
    with pytest.raises(StudioError, match=r"^run autoencoder-run is a conv-autoencoder "
                                          r"\(autoencoder\) run: live prediction takes "
                                          r"classification runs$"):
        LivePredictor(fake)
    with pytest.raises(StudioError, match="not a run directory"):
        LivePredictor(tmp_path)


# ---------------------------------------------------------------- capture


def test_recorded_frames_are_numbered_pngs_that_load_back(tmp_path):
    source = GeneratedSource(80, 60, seed=9, realtime=False)
    frames = [source.read() for _ in range(3)]
    paths = record_frames(frames, tmp_path, "thumbs up")
    assert [p.name for p in paths] == ["00001.png", "00002.png", "00003.png"]
    assert all(p.parent == tmp_path / "thumbs up" for p in paths)
    for path, frame in zip(paths, frames, strict=True):
        assert np.array_equal(np.asarray(Image.open(path)), frame)
    more = record_frames([frames[0][:, :, 0]], tmp_path, "thumbs up")   # grey, continues
    assert more[0].name == "00004.png" and np.asarray(Image.open(more[0])).shape == (60, 80)
    assert sorted(p.name for p in (tmp_path / "thumbs up").iterdir()) == \
        ["00001.png", "00002.png", "00003.png", "00004.png"]          # no temporaries left
    with pytest.raises(StudioError, match="cannot be a folder name"):
        record_frames(frames, tmp_path, "../escape")
    with pytest.raises(StudioError, match="cannot be empty"):
        record_frames(frames, tmp_path, "  ")


def test_a_camera_that_stops_giving_frames_has_ended_after_two_seconds(monkeypatch):
    import time

    from cnnstudio.core.camera import sources

    class Unplugged:                       # what OpenCV's capture does once the cable is out
        def read(self):
            return False, None

        def release(self):
            pass

    camera = object.__new__(sources.CameraSource)
    camera._cap, camera._first, camera.ended = Unplugged(), None, False
    camera._last_frame = time.monotonic()
    assert camera.read() is None and not camera.ended          # a hiccup, not an unplug
    camera._last_frame = time.monotonic() - sources.UNPLUGGED_S - 0.1
    assert camera.read() is None and camera.ended
