"""WindowRecorder: a small widget changing colour recorded as GIF and MP4, read back pixel by
pixel; the failures (bad suffix, unwritable folder, ffmpeg dying) are one line and leave
no file, no thread and no timer behind."""

from __future__ import annotations

import importlib.util
import os
import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QLabel

from cnnstudio.core.errors import StudioError
from cnnstudio.gui.recorder import WindowRecorder

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
FPS = 20


@pytest.fixture
def swatch(qtbot):
    label = QLabel()
    label.setFixedSize(160, 120)
    qtbot.addWidget(label)
    label.show()
    return label


def paint(label, colour):
    label.setStyleSheet("background: rgb({}, {}, {});".format(*colour))


def record_three_colours(qtbot, swatch, recorder, per_colour=3):
    """Red, then green, then blue, each for ``per_colour`` grabbed frames."""
    paint(swatch, RED)
    started = time.monotonic()
    recorder.start()
    for count, colour in enumerate([GREEN, BLUE, None], start=1):
        qtbot.waitUntil(lambda n=count: recorder.frames >= n * per_colour, timeout=5_000)
        if colour:
            paint(swatch, colour)
    path = recorder.stop()
    return path, time.monotonic() - started


@pytest.mark.slow
def test_gif_of_a_widget_changing_colour(qtbot, swatch, tmp_path):
    recorder = WindowRecorder(swatch, tmp_path / "swatch.gif", fps=FPS)
    path, seconds = record_three_colours(qtbot, swatch, recorder)
    assert path == tmp_path / "swatch.gif"
    assert not recorder.recording and recorder.frames >= 9
    with Image.open(path) as image:
        assert image.size == (160, 120)
        # Identical grabs merge into one frame shown longer: one GIF frame per colour.
        assert image.n_frames == 3
        colours, total_ms = [], 0
        for index in range(image.n_frames):
            image.seek(index)
            rgb = image.convert("RGB")
            assert rgb.getpixel((0, 0)) == rgb.getpixel((159, 119)) == rgb.getpixel((80, 60))
            colours.append(rgb.getpixel((80, 60)))
            total_ms += image.info["duration"]
    assert colours == [RED, GREEN, BLUE]
    # Every grabbed frame lasts one period or more; the whole no longer than the recording.
    assert recorder.frames * 1000 / FPS <= total_ms <= seconds * 1000 + 2 * 1000 / FPS
    assert [p.name for p in tmp_path.iterdir()] == ["swatch.gif"]      # no temporary left


@pytest.mark.skipif(importlib.util.find_spec("imageio_ffmpeg") is None,
                    reason='MP4 needs imageio-ffmpeg: pip install "cnnstudio[record]"')
@pytest.mark.slow
def test_mp4_of_a_widget_changing_colour(qtbot, swatch, tmp_path):
    import imageio_ffmpeg

    recorder = WindowRecorder(swatch, tmp_path / "swatch.mp4", fps=FPS)
    path, _ = record_three_colours(qtbot, swatch, recorder)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    assert meta["size"] == (160, 120)
    frames = [np.frombuffer(f, np.uint8).reshape(120, 160, 3) for f in reader]
    assert len(frames) >= recorder.frames           # late or dropped grabs repeat a frame
    centres = [tuple(int(v) for v in f[60, 80]) for f in frames]

    def near(pixel, colour):
        return max(abs(a - b) for a, b in zip(pixel, colour, strict=True)) <= 12

    assert near(centres[0], RED) and near(centres[-1], BLUE)
    first_green = next(i for i, c in enumerate(centres) if near(c, GREEN))
    first_blue = next(i for i, c in enumerate(centres) if near(c, BLUE))
    assert 3 <= first_green < first_blue
    assert all(near(c, (RED, GREEN, BLUE)[(i >= first_green) + (i >= first_blue)])
               for i, c in enumerate(centres))
    assert [p.name for p in tmp_path.iterdir()] == ["swatch.mp4"]


def test_a_widget_that_grows_is_scaled_into_the_first_size(qtbot, swatch, tmp_path):
    paint(swatch, RED)
    recorder = WindowRecorder(swatch, tmp_path / "grow.gif", fps=FPS)
    recorder.start()
    qtbot.waitUntil(lambda: recorder.frames >= 2, timeout=5_000)
    swatch.setFixedSize(320, 120)                   # twice as wide: letterboxed, bars above/below
    paint(swatch, BLUE)
    qtbot.waitUntil(lambda: recorder.frames >= 4, timeout=5_000)
    with Image.open(recorder.stop()) as image:
        assert image.size == (160, 120)
        image.seek(image.n_frames - 1)
        last = image.convert("RGB")
    assert last.getpixel((80, 60)) == BLUE
    assert last.getpixel((80, 10)) == last.getpixel((80, 110)) == (0, 0, 0)


def test_unknown_suffix_is_one_line_and_starts_nothing(swatch, tmp_path):
    recorder = WindowRecorder(swatch, tmp_path / "lesson.avi")
    with pytest.raises(StudioError, match=r"^cannot record to lesson\.avi: the name must "
                                          r"end in \.mp4 or \.gif$"):
        recorder.start()
    assert not recorder.recording
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_is_one_line(swatch, tmp_path):
    (tmp_path / "notes.txt").write_text("not a folder")
    recorder = WindowRecorder(swatch, tmp_path / "notes.txt" / "lesson.gif")
    with pytest.raises(StudioError, match=r"cannot write .*lesson\.gif: a file, not a folder"):
        recorder.start()
    assert not recorder.recording


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root (or Windows) writes into a read-only folder regardless")
def test_read_only_folder_is_one_line(swatch, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    try:
        with pytest.raises(StudioError, match=r"cannot write .*lesson\.gif: the folder .* is "
                                              r"not writable"):
            WindowRecorder(swatch, folder / "lesson.gif").start()
    finally:
        folder.chmod(0o700)


@pytest.mark.skipif(importlib.util.find_spec("imageio_ffmpeg") is None,
                    reason='MP4 needs imageio-ffmpeg: pip install "cnnstudio[record]"')
@pytest.mark.slow
def test_ffmpeg_dying_mid_recording_is_reported_once_and_leaves_no_file(qtbot, swatch,
                                                                         tmp_path):
    paint(swatch, RED)
    recorder = WindowRecorder(swatch, tmp_path / "lesson.mp4", fps=FPS)
    recorder.start()
    qtbot.waitUntil(lambda: recorder._writer.process is not None, timeout=5_000)
    recorder._writer.process.kill()
    with qtbot.waitSignal(recorder.failed, timeout=10_000) as failed:
        pass
    message = failed.args[0]
    assert message.startswith("ffmpeg stopped while writing lesson.mp4")
    assert "\n" not in message
    assert not recorder.recording                    # it stopped itself: no timer, no thread
    with pytest.raises(StudioError, match="ffmpeg stopped"):
        recorder.stop()
    assert list(tmp_path.iterdir()) == []


def test_stop_without_start_says_so(swatch, tmp_path):
    with pytest.raises(StudioError, match="never started"):
        WindowRecorder(swatch, tmp_path / "x.gif").stop()
