"""A Haar search on a large image runs on a copy of a bounded size (``max_side`` 0 is
automatic), says so with the smallest object it can still find, and an explicit
``max_side`` still wins."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from cnnstudio.core.families.detection import haar_detect
from cnnstudio.core.families.detection.haar_detect import auto_max_side, detect_haar

ASTRONAUT_FACE = (180, 70, 90, 95)        # x, y, w, h in the 512² photo


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()


def near(box, truth, tolerance=12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(box, truth, strict=True))


def test_a_photo_within_the_limit_is_searched_as_it_is(astronaut):
    result = detect_haar(astronaut, "frontalface")
    assert result.searched_size == (512, 512) and result.note is None
    assert result.smallest() == (30, 30)                       # the asked minimum
    assert auto_max_side((4096, 4096)) == 0 and auto_max_side((4097, 4096)) == 4096


def test_a_large_photo_is_searched_at_the_automatic_size_with_a_note(astronaut, monkeypatch):
    monkeypatch.setattr(haar_detect, "AUTO_MAX_PIXELS", 256 * 256)
    result = detect_haar(astronaut, "frontalface")
    assert result.searched_size == (256, 256) and result.image_size == (512, 512)
    (face,) = result.boxes.tolist()
    assert near(face, ASTRONAUT_FACE)                          # in the photo's pixels
    assert result.smallest() == (48, 48)                       # 24 px window × 2
    assert result.note == ("searched a 256×256 copy of this 512×512 image: a face smaller "
                           "than about 48 px is not found")
    assert detect_haar(astronaut, "eye").note.endswith("an eye smaller than about 40 px is "
                                                       "not found")  # its window is 20 px


def test_an_explicit_max_side_wins(astronaut, monkeypatch):
    monkeypatch.setattr(haar_detect, "AUTO_MAX_PIXELS", 256 * 256)
    result = detect_haar(astronaut, "frontalface", max_side=400)
    assert result.searched_size == (400, 400)
    assert "a face smaller than about 31 px" in result.note    # ceil(24 × 512 / 400)
    assert detect_haar(astronaut, "frontalface", max_side=1024).note is None


def test_a_result_maps_to_the_file_it_was_read_from(astronaut):
    result = detect_haar(astronaut, "frontalface", min_size=30)
    big = result.scaled_to((2048, 2048))          # as if read at 1/4 of a 2048² file
    assert big.image_size == (2048, 2048) and big.searched_size == (512, 512)
    assert np.array_equal(big.boxes, result.boxes * 4) and big.min_size == 120
    assert big.note == ("searched a 512×512 copy of this 2048×2048 image: a face smaller than "
                        "about 120 px is not found")
