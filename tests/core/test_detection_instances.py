"""The detection family's instance format: mask pasting, score filtering, colours, records."""

import numpy as np
import pytest

from cnnstudio.core.errors import DataError
from cnnstudio.core.families.detection.instances import Instances, class_color, overlay, paste_masks

NAMES = ["background", "square", "circle"]


def test_paste_a_full_box_mask_fills_exactly_the_box():
    masks = paste_masks(np.ones((1, 28, 28)), [[2, 3, 6, 8]], 10, 12)
    expected = np.zeros((10, 12), bool)
    expected[2:6, 3:8] = True
    assert masks.shape == (1, 10, 12)
    np.testing.assert_array_equal(masks[0], expected)


def test_paste_keeps_the_left_half_and_cuts_what_leaves_the_image():
    half = np.zeros((2, 28, 28), np.float32)
    half[:, :, :14] = 1.0                      # left half of the box only
    boxes = [[0, 0, 4, 8], [6, 10, 14, 18]]    # the second box sticks out at the bottom right
    masks = paste_masks(half, boxes, 10, 14)
    expected0 = np.zeros((10, 14), bool)
    expected0[0:4, 0:4] = True
    np.testing.assert_array_equal(masks[0], expected0)
    expected1 = np.zeros((10, 14), bool)
    expected1[6:10, 10:14] = True              # rows 10..13 and columns 14.. are off the image
    np.testing.assert_array_equal(masks[1], expected1)


def test_paste_rounds_boxes_and_thresholds_soft_masks():
    soft = np.full((1, 33, 33), 0.4, np.float32)
    assert not paste_masks(soft, [[1.4, 1.6, 5.2, 4.4]], 8, 8).any()
    got = paste_masks(soft, [[1.4, 1.6, 5.2, 4.4]], 8, 8, threshold=0.3)[0]
    assert got.sum() == (5 - 1) * (4 - 2) and got[1:5, 2:4].all()


def test_from_dict_pastes_mask_28_and_threshold_filters():
    d = {"boxes": [[0, 0, 4, 4], [4, 4, 8, 8]], "class_ids": [1, 2], "scores": [0.9, 0.3],
         "mask_28": np.ones((2, 28, 28)), "class_names": NAMES}
    inst = Instances.from_dict(d, image_size=(8, 8))
    assert inst.masks.sum(axis=(1, 2)).tolist() == [16, 16]
    kept = inst.above(0.5)
    assert len(kept) == 1 and kept.labels == ["square"] and kept.masks.shape == (1, 8, 8)
    assert inst.records()[1] == {"box": [4.0, 4.0, 4.0, 4.0], "label": "circle", "score": 0.3}


def test_bad_detections_get_one_clear_message():
    with pytest.raises(DataError, match="0 is the background"):
        Instances([[0, 0, 1, 1]], [0], [0.5], NAMES, (4, 4))
    with pytest.raises(DataError, match="2 boxes, 1 class ids"):
        Instances(np.zeros((2, 4)), [1], [0.5, 0.4], NAMES, (4, 4))


def test_class_colours_are_fixed_and_distinct():
    colours = [class_color(i) for i in range(1, 91)]
    assert class_color(1) == colours[0] and len(set(colours)) == 90
    image = np.zeros((8, 8, 3), np.uint8)
    inst = Instances([[0, 0, 4, 4]], [1], [0.9], NAMES, (8, 8),
                     masks=np.pad(np.ones((1, 4, 4), bool), ((0, 0), (0, 4), (0, 4))))
    out = overlay(image, inst, opacity=1.0, boxes=False)
    assert tuple(out[1, 1]) == class_color(1) and tuple(out[6, 6]) == (0, 0, 0)
