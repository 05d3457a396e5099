"""Captioning (chapter 9): shape-scenes with known captions, the metrics with known scores,
the decoder's attention, beam 1 = greedy, and a tiny captioner through the engine
(probes per epoch, stop then resume with the optimizer state)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig
from cnnstudio.core.datasets import DATASETS, load_dataset
from cnnstudio.core.errors import DataError, ModelError
from cnnstudio.core.families.attention import attention_maps as maps
from cnnstudio.core.families.attention import caption_metrics as cm
from cnnstudio.core.families.attention import shape_scenes as sc
from cnnstudio.core.families.profile import task_profile
from cnnstudio.core.registry import ARCHITECTURES

S = sc.SceneObject


# -- the data ------------------------------------------------------------------------------
def test_scenes_repeat_per_seed_and_differ_between_seeds():
    a, b, c = sc.generate(40, seed=5), sc.generate(40, seed=5), sc.generate(40, seed=6)
    assert np.array_equal(a.images, b.images) and a.captions == b.captions
    assert np.array_equal(a.objects, b.objects)
    assert a.captions != c.captions
    assert a.images.shape == (40, 64, 64, 3) and a.images.dtype == np.uint8
    one = load_dataset(DatasetConfig("shape-scenes", {"limit": 30, "test_count": 10, "seed": 2}))
    two = load_dataset(DatasetConfig("shape-scenes", {"limit": 30, "test_count": 10, "seed": 2}))
    assert np.array_equal(one.train.x, two.train.x) and one.test.captions == two.test.captions
    assert len(one.train) == 30 and len(one.test) == 10
    # Train and test split one seeded stream of 40 scenes: together they are that stream.
    assert sorted(one.train.captions + one.test.captions) == sorted(sc.generate(40, 2).captions)


def test_every_caption_parses_back_to_its_scene():
    scenes = sc.generate(400, seed=1)
    assert set(scenes.counts()) == {1, 2, 3}
    for image, text, rows in zip(scenes.images, scenes.captions, scenes.objects, strict=True):
        objects = sc.scene_objects(rows)
        assert sc.describes(text, objects), text
        assert sc.caption(objects) == text
        parsed = sc.parse(text)
        assert [(o.size, o.colour, o.shape) for o in objects] == parsed.phrases
        # Each object's box holds its colour (a triangle's centre is a little low).
        for o in objects:
            x0, y0, x1, y1 = o.box
            cx, cy = (x0 + x1) // 2, (y0 + y1) // 2 + (2 if o.shape == "triangle" else 0)
            assert tuple(image[cy, cx]) == sc.COLOURS[o.colour]


def test_the_grammar_with_known_scenes():
    red, blue = S("circle", "red", "large", 0, 1), S("square", "blue", "small", 2, 1)
    green = S("triangle", "green", "small", 2, 2)
    assert sc.caption([blue, red]) == "a red circle above a small blue square"
    assert sc.caption([green, blue, red]) == ("a red circle above a small blue square to the "
                                              "left of a small green triangle")
    assert sc.caption([green]) == "a small green triangle"
    assert not sc.describes("a red circle above a small blue square", [red, green])
    assert not sc.describes("a small blue square above a red circle", [blue, red])
    assert sc.parse("a red banana") is None
    assert sc.phrase_of_words("a red circle to the left of a small blue square".split()) == \
        [0, 0, 0, -1, -1, -1, -1, 1, 1, 1, 1]
    ids = sc.encode(["a red circle"], length=6)[0]
    assert ids.tolist() == [sc.START, sc.VOCAB.index("a"), sc.VOCAB.index("red"),
                            sc.VOCAB.index("circle"), sc.END, sc.PAD]
    assert sc.decode(ids) == ["a", "red", "circle"]
    with pytest.raises(DataError, match="max_objects"):
        sc.generate(3, max_objects=4)


def test_shape_scenes_is_listed_with_options_and_refuses_bad_ones():
    source = DATASETS.get("shape-scenes")
    assert source.input_shape == (64, 64, 3) and not source.needs_download
    assert {"seed", "max_objects", "limit", "test_count"} <= set(source.options_help)
    with pytest.raises(DataError, match="max_objects must be an integer between 1 and 3"):
        load_dataset(DatasetConfig("shape-scenes", {"max_objects": 9}))
    with pytest.raises(DataError, match="unknown option 'size'"):
        load_dataset(DatasetConfig("shape-scenes", {"size": 32}))
    data = load_dataset(DatasetConfig("shape-scenes", {"limit": 12, "test_count": 6,
                                                       "max_objects": 1}))
    images, labels = data.preview(per_class=2)
    assert set(labels.tolist()) == {0}          # one shape each: all in "one shape"


# -- the metrics -----------------------------------------------------------------------------
def test_bleu4_exact_match_and_attention_hits_on_known_answers():
    ref = ["a red circle above a small blue square"]
    assert cm.bleu4(ref, ref) == pytest.approx(1.0)
    assert cm.exact_match(ref, ref) == 1.0
    assert cm.bleu4(["a green triangle"], ref) == 0.0          # no matching 4-gram
    # One wrong word (7th of 8): 1-grams 7/8, 2-grams 5/7, 3-grams 4/6, 4-grams 3/5.
    cand = ["a red circle above a small green square"]
    expected = (7 / 8 * 5 / 7 * 4 / 6 * 3 / 5) ** 0.25
    assert cm.bleu4(cand, ref) == pytest.approx(expected)
    assert cm.exact_match(cand + ref, ref * 2) == 0.5
    # Brevity: a 4-word candidate against an 8-word reference.
    short = ["a red circle above"]
    assert cm.bleu4(short, ref) == pytest.approx(np.exp(1 - 8 / 4))

    red, blue = S("circle", "red", "large", 0, 1), S("square", "blue", "small", 2, 1)
    rows = sc.objects_array([red, blue])
    words = ref[0].split()
    alphas = np.zeros((len(words) + 1, 8, 8), np.float32)
    alphas[:, 0, 0] = 1.0
    alphas[2, 1, 3] = 2.0       # "circle": cell (1, 3) → centre (27.5, 11.5), in (23..41, 2..20)
    alphas[7, 0, 0] = 2.0       # "square": top-left corner, not on the blue square
    hits = cm.word_hits(words, alphas, rows)
    assert hits == [(2, True), (7, False)]


def test_box_targets_name_the_cells_of_each_words_shape():
    red, blue = S("circle", "red", "large", 0, 1), S("square", "blue", "small", 2, 1)
    text = "a red circle above a small blue square"
    targets = cm.attention_targets([text], sc.objects_array([red, blue])[None], 9, (8, 8))
    assert targets.shape == (1, 9, 64)
    grid = targets[0].reshape(9, 8, 8)
    # The red circle (box x 23..41, y 2..20): cell centres at rows 0-2, columns 3-4.
    circle = np.zeros((8, 8), np.uint8)
    circle[0:3, 3:5] = 1
    for t in (1, 2):                          # "red", "circle"
        assert np.array_equal(grid[t], circle)
    square = np.zeros((8, 8), np.uint8)
    square[6, 4] = 1                          # box x 28..36, y 49..57: one cell centre
    for t in (5, 6, 7):                       # "small", "blue", "square"
        assert np.array_equal(grid[t], square)
    for t in (0, 3, 4, 8):                    # "a", "above", "a", <end>
        assert grid[t].sum() == 0


def test_attention_pictures_have_known_pixels():
    image = np.zeros((64, 64, 3), np.uint8)
    alpha = np.zeros((8, 8), np.float32)
    alpha[2, 5] = 1.0
    assert maps.peak_cell(alpha) == (2, 5)
    assert maps.cell_box((2, 5), (8, 8), 64) == (40, 16, 47, 23)
    hard = maps.hard_overlay(np.full((64, 64, 3), 200, np.uint8), (2, 5), (8, 8))
    assert tuple(hard[20, 44]) == (200, 200, 200)            # inside the cell: untouched
    assert tuple(hard[16, 44]) == maps.HARD_COLOUR           # its outline
    assert hard[0, 0, 0] == int(200 * 0.45)                  # outside: dimmed
    soft = maps.soft_overlay(image, alpha, opacity=1.0, scale=2)
    assert soft.shape == (128, 128, 3)
    assert tuple(soft[2 * 20, 2 * 44]) == (255, 255, 255)    # the peak: white-hot
    assert np.array_equal(maps.soft_overlay(image, alpha, opacity=0.0), image)


# -- the model -------------------------------------------------------------------------------
def test_captioner_registration_profile_and_bad_options():
    arch = ARCHITECTURES.get("captioner")
    assert arch.task == "captioning"
    profile = task_profile("captioning")
    assert profile.prediction == "caption" and profile.family == "attention"
    assert "word_accuracy" in profile.keys()
    with pytest.raises(ModelError, match="units must be an integer between 1 and 2,048, got 0"):
        arch.build((64, 64, 3), 3, {"units": 0})
    with pytest.raises(ModelError, match="colour scenes"):
        arch.build((64, 64, 1), 3, {})
    with pytest.raises(ModelError, match="captioner: cell must be one of gru, lstm, got 'rnn'"):
        arch.build((64, 64, 3), 3, {"cell": "rnn", "units": 8, "filters": 4})
