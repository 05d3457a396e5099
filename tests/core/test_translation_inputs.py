"""How a dropped picture or a file given to ``translate`` becomes a translation run's input."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.families.generative.translation_inputs import (
    domain_image,
    sketch_polarity,
    source_image,
)


def fake_edges(image, side):
    """A stand-in edge operator that marks where it was called: all 7s."""
    return np.full((side, side, 1), 7, np.uint8)


def sketch(side=64, dark_on_light=False):
    image = np.zeros((side, side), np.uint8)
    image[10:12, 5:50] = 255                       # one 2-px stroke
    return 255 - image if dark_on_light else image


def test_a_sketch_is_told_from_a_photo_by_its_two_grey_levels():
    assert sketch_polarity(sketch()) == "light"
    assert sketch_polarity(sketch(dark_on_light=True)) == "dark"
    ramp = np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))     # every grey level
    assert sketch_polarity(ramp) is None


def test_a_light_sketch_of_the_right_size_is_used_exactly_as_drawn():
    out, notes = source_image(sketch(), (64, 64, 1), fake_edges)
    assert notes == []
    assert out.shape == (64, 64, 1) and np.array_equal(out[:, :, 0], sketch())


def test_a_dark_on_light_sketch_is_inverted_and_says_so():
    out, notes = source_image(sketch(dark_on_light=True), (64, 64, 1), fake_edges)
    assert np.array_equal(out[:, :, 0], sketch())
    assert notes == ["inverted to light lines on black, as the run's edge maps are drawn"]


def test_a_larger_sketch_is_shrunk_with_its_lines_kept_whole():
    big = np.zeros((128, 128), np.uint8)
    big[20:24, 10:100] = 255                       # 4 px at 128 → 2 px at 64
    out, notes = source_image(big, (64, 64, 1), fake_edges)
    assert notes == ["resized from 128×128 to 64×64"]
    assert set(np.unique(out)) == {0, 255}
    assert out[10:12, 5:50, 0].min() == 255 and out[:9, :, 0].max() == 0


def test_a_photo_goes_through_the_edge_operator_and_the_note_says_it():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (48, 80, 3), dtype=np.uint8)
    out, notes = source_image(photo, (64, 64, 1), fake_edges)
    assert (out == 7).all()
    assert notes == ["resized from 80×48 to 64×64", "turned into its edges"]
    # --input edges forces it even for a sketch; as-is never calls it.
    assert (source_image(sketch(), (64, 64, 1), fake_edges, "edges")[0] == 7).all()
    assert np.array_equal(source_image(sketch(), (64, 64, 1), fake_edges, "as-is")[0][..., 0],
                          sketch())
    with pytest.raises(ValueError, match="mode must be one of auto, edges, as-is"):
        source_image(photo, (64, 64, 1), fake_edges, "outline")


def test_a_domain_image_is_fitted_with_notes_for_size_and_channels():
    grey = np.full((28, 28), 200, np.uint8)
    out, notes = domain_image(grey, (32, 32, 3))
    assert out.shape == (32, 32, 3) and int(out[16, 16, 1]) == 200
    assert notes == ["resized from 28×28 to 32×32", "given three colour channels"]
    same, none = domain_image(np.zeros((32, 32, 3), np.uint8), (32, 32, 3))
    assert none == [] and same.shape == (32, 32, 3)
