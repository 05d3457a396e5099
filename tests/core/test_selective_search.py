"""Selective search (Uijlings et al. 2013): the grouping's similarities and order with known
answers, proposals that find drawn objects, determinism, recall and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.errors import DataError
from cnnstudio.core.families.detection import selective_search as ss


def _halves(h=8, w=12):
    labels = np.zeros((h, w), np.int64)
    labels[:, w // 2:] = 1
    image = np.zeros((h, w, 3), np.uint8)
    image[:, : w // 2] = (255, 0, 0)
    image[:, w // 2:] = (0, 0, 255)
    return labels, image


def test_two_regions_merge_once_with_the_papers_similarity():
    labels, image = _halves()
    steps = ss.group_regions(labels, image, "CSF")
    assert len(steps) == 1
    step = steps[0]
    assert (step.first, step.second, step.new) == (0, 1, 2)
    assert step.box == (0, 0, 8, 12)
    # colour: red vs blue share only the empty green channel's bin 0 (1/3 of each L1-normed
    # histogram); size: 1 − (48 + 48) / 96 = 0; fill: the two halves fill their box: 1.
    assert step.similarity == pytest.approx(1 / 3 + 0 + 1)
    assert ss.group_regions(labels, image, "S")[0].similarity == pytest.approx(0.0)
    # Texture: the edge between the halves gives each side the same responses, mirrored:
    # equal histograms. Stripes beside a flat half do not match.
    assert ss.group_regions(labels, image, "T")[0].similarity == pytest.approx(1.0)
    image[::2, :6], image[1::2, :6] = 250, 0
    assert ss.group_regions(labels, image, "T")[0].similarity < 0.95


def test_the_most_similar_neighbours_merge_first_and_ids_follow_merge_order():
    labels = np.repeat(np.array([[0, 0, 1, 1, 2, 2]]), 4, axis=0)
    image = np.zeros((4, 6, 3), np.uint8)
    image[:, :4] = (200, 30, 30)          # regions 0 and 1 share a colour
    image[:, 4:] = (30, 30, 200)
    steps = ss.group_regions(labels * 7 + 3, image, "C")   # any label values: relabelled
    assert [(s.first, s.second, s.new) for s in steps] == [(0, 1, 3), (2, 3, 4)]
    assert steps[0].similarity == pytest.approx(1.0)       # identical histograms
    assert steps[0].box == (0, 0, 4, 4) and steps[1].box == (0, 0, 4, 6)


def _two_rectangles():
    image = np.full((64, 64, 3), (40, 120, 40), np.uint8)
    image[8:30, 10:40] = (230, 40, 40)
    image[36:60, 30:58] = (40, 40, 230)
    return image, np.array([[8, 10, 30, 40], [36, 30, 60, 58]], np.float32)


@pytest.mark.parametrize("mode", ["fast", "quality"])
def test_proposals_contain_the_drawn_objects_and_repeat_exactly(mode):
    image, truth = _two_rectangles()
    boxes = ss.propose(image, mode, max_proposals=50)
    assert boxes.dtype == np.float32 and boxes.ndim == 2 and boxes.shape[1] == 4
    assert 3 <= len(boxes) <= 50
    assert len(np.unique(boxes, axis=0)) == len(boxes)      # deduplicated
    for box in truth:
        assert ss.iou_matrix(box[None], boxes).max() == pytest.approx(1.0)
    assert [0, 0, 64, 64] in boxes.tolist()                 # the hierarchy's top
    assert np.array_equal(boxes, ss.propose(image.copy(), mode, max_proposals=50))
    assert len(ss.propose(image, mode, max_proposals=2)) == 2


def test_iou_matrix_and_recall_known_answers():
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 20]], np.float32)
    b = np.array([[0, 5, 10, 15], [20, 20, 30, 30]], np.float32)
    assert np.allclose(ss.iou_matrix(a, b), [[50 / 150, 0], [100 / 200, 0]])
    gt = [a, np.zeros((0, 4), np.float32)]
    assert ss.proposal_recall(gt, [b, b]) == pytest.approx(0.5)     # 1 of 2 boxes ≥ 0.5
    assert ss.proposal_recall(gt, [b, b], iou=0.3) == pytest.approx(1.0)
    assert ss.proposal_recall(gt, [np.zeros((0, 4)), b]) == 0.0
    with pytest.raises(DataError, match="pair up"):
        ss.proposal_recall(gt, [b])


def test_recall_on_held_out_shapes():
    from cnnstudio.core.families.detection import shapes_data

    split = shapes_data.generate(20, 2, 64)            # the shapes test stream (seed 0)
    props = [ss.propose(image, "fast") for image in split.x]
    assert all(len(p) <= 300 for p in props)
    assert ss.proposal_recall([a["boxes"] for a in split.annotations], props) >= 0.95


def test_bad_input_says_what_is_wrong():
    image, _ = _two_rectangles()
    with pytest.raises(DataError, match="mode"):
        ss.propose(image, "slow")
    with pytest.raises(DataError, match="max_proposals"):
        ss.propose(image, "fast", max_proposals=0)
    with pytest.raises(DataError, match="RGB image"):
        ss.propose(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(DataError, match="measures"):
        ss.group_regions(*_halves(), measures="X")
    with pytest.raises(DataError, match="same size"):
        ss.group_regions(np.zeros((3, 3), int), np.zeros((4, 4, 3), np.uint8))
