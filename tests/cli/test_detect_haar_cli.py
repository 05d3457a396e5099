"""``cnnstudio detect IMAGE... --haar CASCADE [--json]``: the astronaut's face as JSON, several
images as a list, bad input as one line and exit code 2."""

from __future__ import annotations

import json
import shutil

import pytest
from skimage import data

from cnnstudio.cli import main


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory):
    import cv2

    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    cv2.imwrite(str(path), data.astronaut()[..., ::-1])
    return path


def test_json_for_one_image_is_one_object(astronaut, capsys):
    assert main(["detect", str(astronaut), "--haar", "frontalface", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"detections", "ms"} and out["ms"] > 0
    (face,) = out["detections"]
    assert face["label"] == "face" and face["score"] == 1.0
    x, y, w, h = face["box"]
    assert 170 <= x <= 190 and 60 <= y <= 80 and 85 <= w <= 105 and w == h


def test_several_images_and_text_output(astronaut, tmp_path, capsys):
    other = tmp_path / "again.png"
    shutil.copy(astronaut, other)
    assert main(["detect", str(astronaut), str(other), "--haar", "eye", "--scale", "1.2",
                 "--neighbors", "3", "--min-size", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [i["file"] for i in out["images"]] == [str(astronaut), str(other)]
    assert all(set(i) == {"file", "detections", "ms"} for i in out["images"])
    assert out["images"][0]["detections"] == out["images"][1]["detections"]
    assert main(["detect", str(astronaut), "--haar", "frontalface"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("astronaut.png: 1 × face (") and "face at x=" in text


@pytest.mark.parametrize("args,message", [
    ([], "say which detector to use: --haar"),
    (["--haar", "nose"], "unknown Haar cascade 'nose'"),
    (["--haar", "face", "--scale", "0.9"], "--scale must be above 1"),
    (["--haar", "face", "--neighbors", "-2"], "--neighbors must be an integer"),
])
def test_bad_input_is_one_line_and_exit_2(astronaut, capsys, args, message):
    assert main(["detect", str(astronaut), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_an_unreadable_image_is_named(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    assert main(["detect", str(bad), "--haar", "face", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "cannot read 'bad.png'" in captured.err
