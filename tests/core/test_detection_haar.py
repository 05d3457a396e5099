"""Haar cascades (Viola-Jones): OpenCV's detector on the astronaut, the cascade's structure
read from its XML, and the studio's own numpy run of the cascade, whose surviving windows
must be exactly OpenCV's raw candidates and whose per-stage counts must add up."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.detection import haar_stages
from cnnstudio.core.families.detection.haar_cascades import cascade_path, read_cascade
from cnnstudio.core.families.detection.haar_detect import detect_haar

# Where her face is in skimage's 512×512 astronaut (x, y, w, h), drawn by hand: from the
# hairline to the chin, ear to ear.
ASTRONAUT_FACE = (180, 70, 90, 95)


def iou_xywh(a, b) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()


def test_the_astronauts_face_is_found(astronaut):
    result = detect_haar(astronaut, "frontalface", scale_factor=1.1, min_neighbors=5,
                         min_size=30)
    assert len(result.boxes) == 1 and result.label == "face"
    assert iou_xywh(result.boxes[0].tolist(), ASTRONAUT_FACE) > 0.6
    assert result.neighbors[0] >= 5 and result.ms > 0
    y1, x1, y2, x2 = result.instance_boxes()[0]              # the family's [y1, x1, y2, x2]
    x, y, w, h = result.boxes[0]
    assert (y1, x1, y2, x2) == (y, x, y + h, x + w)
    # Her two eyes, with the eye cascade, lie inside the face box.
    eyes = detect_haar(astronaut, "eye", min_neighbors=5, min_size=20).boxes
    assert len(eyes) == 2
    assert all(x <= ex and ex + ew <= x + w and y <= ey <= y + h for ex, ey, ew, eh in eyes)


def test_a_shrunk_search_finds_her_face_in_the_photos_pixels(astronaut):
    small = detect_haar(astronaut, "frontalface", max_side=256)
    assert small.image_size == (512, 512) and len(small.boxes) == 1
    assert iou_xywh(small.boxes[0].tolist(), ASTRONAUT_FACE) > 0.6
    with pytest.raises(StudioError, match="max-side must be 0"):
        detect_haar(astronaut, max_side=8)


@pytest.mark.parametrize("side", [36, 46, 50, 70, 95, 140, 200])
def test_the_octave_search_finds_a_face_of_every_size(astronaut, side):
    # Her face pasted at one size on a grey 320×320 page: sizes on both sides of the
    # octave boundaries (48 and 96 px for a 24 px base window) are found where it was put.
    x0, y0, w0, h0 = 165, 50, 125, 125                       # her face with a margin
    scale = side / ASTRONAUT_FACE[2]
    face = cv2.resize(astronaut[y0:y0 + h0, x0:x0 + w0],
                      (round(w0 * scale), round(h0 * scale)), interpolation=cv2.INTER_AREA)
    page = np.full((320, 320, 3), 128, np.uint8)
    px, py = 320 - face.shape[1] - 7, 11
    page[py:py + face.shape[0], px:px + face.shape[1]] = face
    truth = (px + round((ASTRONAUT_FACE[0] - x0) * scale), py + round((ASTRONAUT_FACE[1] - y0)
             * scale), round(ASTRONAUT_FACE[2] * scale), round(ASTRONAUT_FACE[3] * scale))
    found = detect_haar(page, "frontalface", min_size=30, search="octaves")
    assert max((iou_xywh(b.tolist(), truth) for b in found.boxes), default=0) > 0.5, found


def test_octave_and_full_search_agree_and_respect_the_sizes(astronaut):
    octaves = detect_haar(astronaut, "frontalface", search="octaves")
    full = detect_haar(astronaut, "frontalface", search="full")
    assert len(octaves.boxes) == len(full.boxes) == 1
    assert iou_xywh(octaves.boxes[0].tolist(), full.boxes[0].tolist()) > 0.9
    raw = detect_haar(astronaut, "frontalface", min_neighbors=0, min_size=40,
                      max_size=150)
    assert len(raw.boxes) > len(octaves.boxes) and not raw.neighbors.any()    # ungrouped
    assert raw.boxes[:, 2].min() >= 40 and raw.boxes[:, 2].max() <= 150
    with pytest.raises(StudioError, match="--search must be one of octaves, full"):
        detect_haar(astronaut, search="fast")


def test_bad_options_and_unknown_cascades_are_one_message(astronaut):
    with pytest.raises(StudioError, match="scale must be above 1"):
        detect_haar(astronaut, scale_factor=1.0)
    with pytest.raises(StudioError, match="neighbors"):
        detect_haar(astronaut, min_neighbors=-1)
    with pytest.raises(StudioError, match="unknown Haar cascade 'nose'.*frontalface"):
        cascade_path("nose")


def test_frontalface_default_structure_from_its_xml():
    cascade = read_cascade(cascade_path("frontalface_default"))
    assert cascade.window == (24, 24) and cascade.layout == "current"
    assert len(cascade.stages) == 25
    assert [s.weak_count for s in cascade.stages[:5]] == [9, 16, 27, 32, 52]
    assert max(s.weak_count for s in cascade.stages) == 211     # the XML's maxWeakCount
    assert cascade.stages[-1].weak_count == 200
    assert sum(s.weak_count for s in cascade.stages) == len(cascade.features) == 2913
    assert cascade.stumps_only and cascade.tilted_features == 0
    first = cascade.stage_features(0)
    assert len(first) == 9
    # The first feature: a 12×9 block minus three times its middle third (eyes vs cheeks).
    assert first[0].rects == ((6, 4, 12, 9, -1.0), (6, 7, 12, 3, 3.0))
    assert cascade.stages[0].threshold == pytest.approx(-5.0425500869750977)


def test_old_layout_and_broken_files(tmp_path):
    plate = read_cascade(cascade_path("license_plate_rus_16stages"))
    assert plate.layout == "old" and plate.window == (64, 16) and len(plate.stages) == 16
    bad = tmp_path / "broken.xml"
    bad.write_text("<opencv_storage><cascade><stages>")
    with pytest.raises(StudioError, match="cannot read the cascade broken.xml"):
        read_cascade(bad)


def test_the_haar_model_has_nothing_to_build_or_train():
    from cnnstudio.core.errors import ModelError
    from cnnstudio.core.families.profile import arch_profile
    from cnnstudio.core.registry import ARCHITECTURES

    arch = ARCHITECTURES.get("haar-cascade")
    with pytest.raises(ModelError, match="nothing to build or train.*--haar frontalface"):
        arch.build((128, 128, 3), 2, {"cascade": "eye"})
    profile = arch_profile("haar-cascade")
    assert (profile.task, profile.prediction, profile.plots) == ("haar", "haar", ())


def test_the_pyramid_is_opencvs():
    levels = haar_stages.pyramid((512, 512), (24, 24), 1.1, min_size=30)
    # 24·1.1³ = 31.9 px is the first window of at least 30 px; the last still fits 512.
    assert levels[0].scale == pytest.approx(1.331) and levels[0].size == (385, 385)
    assert levels[0].step == 2 and levels[-1].window((24, 24))[0] <= 512
    assert all(lv.step == (1 if lv.scale >= 2 else 2) for lv in levels)
    assert len(levels) == 30


@pytest.mark.parametrize("name", ["frontalface", "frontalface_alt2", "upperbody"])
def test_numpy_cascade_keeps_exactly_opencvs_raw_windows(astronaut, name):
    """Stumps, 2-node trees (alt2) and 45°-tilted features (upperbody) on a crop."""
    gray = cv2.cvtColor(astronaut[40:220, 150:310], cv2.COLOR_RGB2GRAY)
    path = cascade_path(name)
    counts = haar_stages.count_pyramid(gray, read_cascade(path), 1.1, min_size=24)
    ours = sorted(map(tuple, np.concatenate([c.accepted for c in counts]).tolist()))
    raw = cv2.CascadeClassifier(str(path)).detectMultiScale(gray, 1.1, 0, minSize=(24, 24))
    theirs = sorted(map(tuple, np.asarray(raw).reshape(-1, 4).tolist()))
    assert ours == theirs and len(ours) > 0
    for level in counts:       # every window is counted once: skipped, flat, rejected, kept
        assert level.check()
    totals = haar_stages.totals(counts)
    assert totals["windows"] == totals["skipped"] + totals["flat"] + \
        sum(totals["rejected"]) + totals["accepted"]
    # The cascade's point: the first stages throw away most windows.
    assert sum(totals["rejected"][:3]) > 0.6 * (totals["windows"] - totals["skipped"])
