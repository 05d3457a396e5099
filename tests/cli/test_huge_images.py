"""The commands on images too large to decode whole: ``predict`` and ``detect`` read them
downscaled and say so in a note on stderr; Haar boxes come back in the file's pixels;
a header beyond 2^30 pixels is one error line."""

from __future__ import annotations

import json
from types import SimpleNamespace

import cv2
import pytest
from skimage import data

from cnnstudio.cli import main
from cnnstudio.core.bounded_decode import Downscaled
from cnnstudio.core.families.detection.detect_cli import in_file_pixels
from tests.huge_images import flat_png, png_header_only

ASTRONAUT_FACE = (180, 70, 90, 95)        # x, y, w, h in the 512² photo


@pytest.fixture(scope="module")
def big_photo(tmp_path_factory):
    """The astronaut at 4200² (17.6 MP, over the 16.8 MP decoded whole) as a JPEG."""
    path = tmp_path_factory.mktemp("photos") / "astronaut-4200.jpg"
    big = cv2.resize(data.astronaut()[..., ::-1], (4200, 4200), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), big, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
    from cnnstudio.core.training import engine

    config = RunConfig(DatasetConfig("digits", {}),
                       ModelConfig("mlp", {"units": 16, "hidden_layers": 1}),
                       TrainConfig(epochs=1, batch_size=64))
    result = engine.run(config, runs_root=tmp_path_factory.mktemp("runs"))
    assert result.status == "finished", result.summary
    return result.run_dir


def test_haar_on_a_large_photo_notes_the_size_searched(big_photo, capsys):
    assert main(["detect", str(big_photo), "--haar", "frontalface", "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    note = ("searched a 2100×2100 copy of this 4200×4200 image: a face smaller than about "
            "48 px is not found")                      # JPEG at 1/2, window 24 px × 2
    assert out["note"] == note
    assert captured.err == f"cnnstudio: note: astronaut-4200.jpg: {note}\n"
    scale = 4200 / 512
    faces = [d["box"] for d in out["detections"]]      # in the file's pixels
    assert any(all(abs(a - b * scale) <= 100 for a, b in zip(box, ASTRONAUT_FACE, strict=True))
               for box in faces), faces


def test_an_explicit_max_side_still_wins(big_photo, capsys):
    assert main(["detect", str(big_photo), "--haar", "frontalface", "--max-side", "1000"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ("cnnstudio: note: astronaut-4200.jpg: searched a 1000×1000 copy "
                            "of this 4200×4200 image: a face smaller than about 101 px is "
                            "not found\n")
    assert captured.out.startswith("astronaut-4200.jpg: ") and " × face (" in captured.out


@pytest.mark.slow
def test_predict_reads_a_huge_png_downscaled_with_a_note(tiny_run, tmp_path, capsys):
    path = tmp_path / "huge.png"               # 23,000² grey: 529 MB of pixels, 0.6 MB file
    path.write_bytes(flat_png(23000, 23000, 200))
    assert main(["predict", str(tiny_run), str(path), "--json"]) == 0
    captured = capsys.readouterr()
    (result,) = json.loads(captured.out.strip().splitlines()[-1])
    assert result["file"] == str(path) and len(result["top"]) == 5
    assert captured.err == ("cnnstudio: note: huge.png: read as a 3834×3834 copy of its "
                            "23000×23000 pixels (an image over 16.8 million pixels is "
                            "downscaled as it is decoded, to keep memory bounded)\n")


def test_a_header_beyond_2_30_pixels_is_one_error_line(tmp_path, capsys):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(40_000, 40_000))
    assert main(["detect", str(path), "--haar", "frontalface"]) == 2
    captured = capsys.readouterr()
    assert captured.err == ("cnnstudio: error: cannot read 'bomb.png': its header claims more "
                            "than 2^30 pixels\n") and captured.out == ""


def test_other_detectors_boxes_come_back_in_the_files_pixels():
    def source(image):
        return {"detections": [{"box": [10, 20, 30, 40], "label": "cat", "score": 0.9}],
                "ms": 1.0}

    detect = in_file_pixels(source)
    assert detect(None) == source(None)
    smaller = Downscaled("cat.png", (8000, 6000), (2000, 1500), "jpeg-dct")
    found = detect(None, smaller)
    assert found["detections"][0]["box"] == [40, 80, 120, 160]
    assert found["note"] == smaller.detail and SimpleNamespace(**found).ms == 1.0
