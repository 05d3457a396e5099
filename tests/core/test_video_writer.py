"""The Qt-free video writer: GIF and MP4 files read back frame by frame, their timing on the
fps clock, size fitting, and the failures that must leave no file behind."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from PIL import Image

from cnnstudio.core.errors import StudioError
from cnnstudio.core.video_writer import letterbox, open_video_writer

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)
needs_ffmpeg = pytest.mark.skipif(importlib.util.find_spec("imageio_ffmpeg") is None,
                                  reason='imageio-ffmpeg is not installed (pip install '
                                         '"cnnstudio[record]"): MP4 cannot be written')


def solid(colour, width=40, height=30):
    frame = np.zeros((height, width, 3), np.uint8)
    frame[:] = colour
    return frame


def gif_frames(path):
    """[(RGB array, duration ms)] of every frame in the GIF."""
    out = []
    with Image.open(path) as image:
        for index in range(image.n_frames):
            image.seek(index)
            out.append((np.asarray(image.convert("RGB")), image.info["duration"]))
    return out


def mp4_frames(path):
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return meta, [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]


def test_gif_keeps_colours_and_places_frames_on_the_fps_clock(tmp_path):
    writer = open_video_writer(tmp_path / "clip.gif", fps=10)
    writer.write(solid(RED), slot=0)
    writer.write(solid(RED), slot=1)          # the same picture: one frame shown longer
    writer.write(solid(GREEN), slot=2)
    writer.write(solid(BLUE), slot=5)         # slots 3–4 missed: green stays on screen
    assert writer.close() == tmp_path / "clip.gif"
    frames = gif_frames(tmp_path / "clip.gif")
    assert [tuple(f[15, 20]) for f, _ in frames] == [RED, GREEN, BLUE]
    assert [ms for _, ms in frames] == [200, 300, 100]
    assert frames[0][0].shape == (30, 40, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["clip.gif"]


def test_gif_delays_do_not_drift_at_an_fps_that_does_not_divide_a_second(tmp_path):
    writer = open_video_writer(tmp_path / "clip.gif", fps=15)
    for slot in range(15):                    # one second, a new colour every frame
        writer.write(solid((slot * 17, 0, 0)))
    writer.close()
    delays = [ms for _, ms in gif_frames(tmp_path / "clip.gif")]
    assert len(delays) == 15 and set(delays) == {60, 70}
    assert sum(delays) == 1000


def test_a_frame_of_another_size_is_scaled_into_the_first_with_its_aspect_kept():
    wide = solid(BLUE, width=80, height=15)             # 2× wider than 40×30 and half as tall
    fitted = letterbox(wide, (40, 30))
    assert fitted.shape == (30, 40, 3)
    assert tuple(fitted[15, 20]) == BLUE
    assert tuple(fitted[2, 20]) == (0, 0, 0) and tuple(fitted[28, 20]) == (0, 0, 0)


@needs_ffmpeg
def test_mp4_has_even_sides_every_slot_and_the_colours(tmp_path):
    writer = open_video_writer(tmp_path / "clip.mp4", fps=10)
    writer.write(solid(RED, 41, 31), slot=0)
    writer.write(solid(GREEN, 41, 31), slot=3)          # red fills slots 0–2
    writer.write(solid(BLUE, 82, 31))                   # wider: letterboxed into 41×31
    writer.close()
    meta, frames = mp4_frames(tmp_path / "clip.mp4")
    assert meta["size"] == (42, 32)                     # padded to even for yuv420p
    assert len(frames) == 5
    centres = [f[15, 20].astype(int) for f in frames]
    for centre, colour in zip(centres, [RED, RED, RED, GREEN, BLUE], strict=True):
        assert np.abs(centre - colour).max() <= 12, (centre, colour)
    assert frames[4][3, 20].max() <= 12                 # the letterbox's black bar
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


@needs_ffmpeg
def test_a_dead_ffmpeg_is_one_line_and_leaves_no_file(tmp_path):
    writer = open_video_writer(tmp_path / "clip.mp4", fps=10)
    writer.write(solid(RED))
    writer.process.kill()
    writer.process.wait()
    with pytest.raises(StudioError, match=r"ffmpeg stopped while writing clip\.mp4"):
        for _ in range(50):                             # the pipe's buffer may take a few
            writer.write(solid(GREEN, 400, 300))
    assert list(tmp_path.iterdir()) == []


def test_missing_imageio_ffmpeg_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)      # import fails
    with pytest.raises(StudioError, match=r'pip install "cnnstudio\[record\]"'):
        open_video_writer(tmp_path / "clip.mp4")
    open_video_writer(tmp_path / "clip.gif").abort()              # GIF needs only Pillow
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, fps, message", [
    ("clip.avi", 10, r"cannot record to clip\.avi: the name must end in \.mp4 or \.gif"),
    ("clip", 10, r"the name must end in \.mp4 or \.gif"),
    ("clip.gif", 0, r"frames per second must be between 1 and 50, got 0"),
])
def test_bad_name_or_fps_is_one_line(tmp_path, name, fps, message):
    with pytest.raises(StudioError, match=message):
        open_video_writer(tmp_path / name, fps=fps)
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_the_folder_should_be(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(StudioError, match=r"cannot write .*clip\.gif: a file, not a folder"):
        open_video_writer(tmp_path / "notes.txt" / "clip.gif")


def test_no_frames_or_a_bad_frame_leaves_nothing(tmp_path):
    with pytest.raises(StudioError, match="no frames were recorded"):
        open_video_writer(tmp_path / "empty.gif").close()
    writer = open_video_writer(tmp_path / "bad.gif")
    with pytest.raises(StudioError, match=r"uint8 height×width×3, got float64 \(30, 40, 3\)"):
        writer.write(solid(RED).astype(float))
    assert list(tmp_path.iterdir()) == []
