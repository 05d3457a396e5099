"""The CNN face detector (MTCNN from the mtcnn wheel, offline): the astronaut's face and its
five landmarks, no face in the coffee cup, bad input as one message; the benchmark's scenes
and scoring; ``cnnstudio detect IMAGE --cnn faces [--json]``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from skimage import data

from cnnstudio.core.errors import DataError
from cnnstudio.core.families.detection import cnn_faces
from cnnstudio.core.families.detection import faces_benchmark_data as fb

# Where MTCNN puts her face (y1, x1, y2, x2) in scikit-image's astronaut.
HER_FACE = (64, 182, 171, 265)


@pytest.fixture(scope="module")
def astronaut_found():
    return cnn_faces.detect_faces(data.astronaut())


def test_the_astronauts_face_and_landmarks(astronaut_found):
    found = astronaut_found
    assert found["boxes"].shape == (1, 4) and found["boxes"].dtype == np.float32
    assert np.allclose(found["boxes"][0], HER_FACE, atol=6)
    assert found["scores"][0] > 0.99 and found["ms"] > 0
    (eye_l, eye_r, nose, mouth_l, mouth_r), = found["landmarks"]
    assert np.allclose(eye_l, (204, 100), atol=5) and np.allclose(mouth_r, (244, 140), atol=5)
    assert eye_l[0] < nose[0] < eye_r[0] and mouth_l[0] < nose[0] < mouth_r[0]    # x
    assert max(eye_l[1], eye_r[1]) < nose[1] < min(mouth_l[1], mouth_r[1])        # y down


def test_no_face_and_grey_images():
    coffee = cnn_faces.detect_faces(data.coffee()[:200, :300], min_face=40)
    assert coffee["boxes"].shape == (0, 4) and coffee["landmarks"].shape == (0, 5, 2)
    assert coffee["scores"].shape == (0,) and coffee["ms"] > 0
    grey = data.astronaut()[30:230, 130:330].mean(axis=2).astype(np.uint8)[..., None]
    face = cnn_faces.detect_faces(grey)                 # (H, W, 1): what read_image gives
    assert len(face["boxes"]) == 1 and np.allclose(face["boxes"][0], [34, 52, 141, 135], atol=8)


@pytest.mark.parametrize("min_face", [12, 80])
def test_min_face_keeps_large_faces(min_face):
    # mtcnn 1.0.0 alone finds nothing here at 80 (a pyramid level under 12 px fails the
    # image) and loses faces this large at 12 (its pyramid stops early).
    crop = data.astronaut()[40:200, 150:300]            # her face fills most of it
    found = cnn_faces.detect_faces(crop, min_face)
    assert len(found["boxes"]) == 1
    assert np.allclose(found["boxes"][0], np.subtract(HER_FACE, (40, 150, 40, 150)), atol=8)
    assert cnn_faces.detect_faces(crop, 200)["boxes"].shape == (0, 4)    # larger than it


@pytest.mark.parametrize("image,min_face,message", [
    (np.zeros((64, 64, 3), np.float32), 20, "needs a uint8 image, got float32"),
    (np.zeros((8, 64, 3), np.uint8), 20, "64×8 px: face detection needs at least 12 px"),
    (np.zeros((64, 64, 2), np.uint8), 20, "needs an (H, W, 3) RGB image, got shape (64, 64, 2)"),
    (np.zeros((64, 64, 3), np.uint8), 5, "--min-face must be an integer from 12 to 2000"),
    (np.zeros((64, 64, 3), np.uint8), 20.5, "--min-face must be an integer"),
])
def test_bad_input_is_one_message(image, min_face, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cnn_faces.detect_faces(image, min_face)


def test_rows_records_and_scaling_known_answers():
    # mtcnn's numpy rows: [image, x1, y1, x2, y2, score, 5 × x, 5 × y]; weaker face first
    rows = np.array([[0, 10, 20, 30, 50, 0.9, *range(1, 6), *range(11, 16)],
                     [0, 100, 200, 140, 260, 0.99, *range(101, 106), *range(201, 206)]])
    found = cnn_faces.from_rows(rows, 12.5)
    assert found["boxes"].tolist() == [[200, 100, 260, 140], [20, 10, 50, 30]]   # best first
    assert found["scores"].tolist() == pytest.approx([0.99, 0.9])
    assert found["landmarks"][1].tolist() == [[1, 11], [2, 12], [3, 13], [4, 14], [5, 15]]
    first = cnn_faces.records(found)[0]
    assert first["box"] == [100.0, 200.0, 40.0, 60.0] and first["label"] == "face"
    assert first["landmarks"]["left_eye"] == [101.0, 201.0]
    assert first["landmarks"]["mouth_right"] == [105.0, 205.0]
    double = cnn_faces.scaled(found, 2.0, 3.0)          # sy, sx
    assert double["boxes"][1].tolist() == [40, 30, 100, 90]
    assert double["landmarks"][1, 0].tolist() == [3, 22]
    assert cnn_faces.from_rows(np.zeros((0, 16)), 1.0)["landmarks"].shape == (0, 5, 2)
    inst = cnn_faces.as_instances(found, (300, 200))
    assert inst.class_names == ["background", "face"] and inst.class_ids.tolist() == [1, 1]


def test_scenes_are_faces_at_known_places():
    a, b = fb.face_scenes(3, 240, seed=5), fb.face_scenes(3, 240, seed=5)
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))
    assert [s.background for s in a] == ["coffee", "chelsea", "rocket"]
    for scene in a:
        assert scene.image.shape == (240, 240, 3) and scene.image.dtype == np.uint8
        assert 1 <= len(scene.boxes) <= 3
        sides = scene.boxes[:, 2] - scene.boxes[:, 0]
        assert np.all(sides == scene.boxes[:, 3] - scene.boxes[:, 1])   # squares
        assert np.all((sides >= 40) & (sides <= 112)) and scene.boxes.max() <= 240
        assert np.all(fb.iou_matrix(scene.boxes, scene.boxes)[~np.eye(len(sides), dtype=bool)]
                      == 0)                                              # apart
    with pytest.raises(DataError, match="size must be at least 224 px"):
        fb.face_scenes(1, 100)


def test_scoring_known_answer():
    truth = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]], np.float32),
             np.zeros((0, 4), np.float32)]
    found = [np.array([[0, 0, 10, 12],        # IoU 0.83: a face found
                       [1, 0, 10, 10],        # the same face again: false
                       [50, 50, 60, 60]]),    # nowhere: false
             np.array([[0, 0, 5, 5]])]        # a photo without faces: false
    score = fb.score_faces(truth, found)
    assert score == {"recall": 0.5, "false_per_image": 1.5, "found": 1, "faces": 2,
                     "false": 3}
    assert fb.iou_matrix([[0, 0, 10, 10]], [[0, 5, 10, 15]]).tolist() == [[pytest.approx(1 / 3)]]


def test_the_cnn_finds_pasted_faces():
    scenes = fb.face_scenes(3, 240, seed=5)
    score = fb.score_faces([s.boxes for s in scenes],
                           [cnn_faces.detect_faces(s.image)["boxes"] for s in scenes])
    assert score["faces"] == 5 and score["found"] >= 4 and score["false"] <= 1


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    import cv2

    folder = tmp_path_factory.mktemp("photos")
    cv2.imwrite(str(folder / "astronaut.png"), data.astronaut()[..., ::-1])
    cv2.imwrite(str(folder / "coffee.png"), data.coffee()[:200, :300, ::-1])
    return folder


def test_cli_json_and_text(photos, capsys):
    from cnnstudio.cli import main

    assert main(["detect", str(photos / "astronaut.png"), "--cnn", "faces", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"detections", "ms"} and out["ms"] > 0
    (face,) = out["detections"]
    x, y, w, h = face["box"]
    assert abs(x - 182) <= 6 and abs(y - 64) <= 6 and abs(w - 83) <= 8 and abs(h - 107) <= 8
    assert list(face["landmarks"]) == list(cnn_faces.LANDMARKS) and face["score"] > 0.99
    assert main(["detect", str(photos / "astronaut.png"), str(photos / "coffee.png"),
                 "--cnn", "faces", "--min-face", "40"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("astronaut.png: 1 × face (") and "face at x=" in lines[1]
    assert lines[2].startswith("    left eye (") and "mouth right (" in lines[2]
    assert lines[3].startswith("coffee.png: no face found (")


@pytest.mark.parametrize("args,message", [
    (["--cnn", "faces", "--min-face", "4"], "--min-face must be an integer from 12 to 2000"),
    (["--cnn", "faces", "--haar", "frontalface"], "use one detector at a time, not haar and cnn"),
])
def test_cli_bad_options_are_one_line(photos, capsys, args, message):
    from cnnstudio.cli import main

    assert main(["detect", str(photos / "coffee.png"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_only_faces_scoring_the_cut_are_kept_best_first():
    rows = np.zeros((3, 16), np.float32)
    rows[:, 1:5] = [[10, 20, 50, 70], [0, 0, 8, 8], [5, 5, 30, 30]]      # x1, y1, x2, y2
    rows[:, 5] = [0.96, 0.90, 0.99]                   # a wheel's 0.90 is below the cut
    found = cnn_faces.from_rows(rows, 1.0, cnn_faces.MIN_SCORE)
    assert found["scores"].tolist() == pytest.approx([0.99, 0.96])
    assert found["boxes"].tolist() == [[5, 5, 30, 30], [20, 10, 70, 50]]
