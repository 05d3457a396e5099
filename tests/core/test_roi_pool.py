"""RoI max pooling (Fast R-CNN) on hand-made feature maps with known answers."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")


def _features():
    # Two images of 4×4 cells, one channel: image 0 holds 4·y + x, image 1 the same + 100.
    one = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    return tf.constant(np.concatenate([one, one + 100]))


def test_a_whole_image_roi_pools_the_max_of_each_quadrant():
    from cnnstudio.core.families.detection.roi_pool_tf import roi_pool_tf

    # 16×16 image over 4×4 cells: stride 4. Output 2 → 4×4 sub-cells whose centres (pixels
    # 2, 6, 10, 14) are the cell centres exactly, so the samples are the cells themselves.
    out = roi_pool_tf(_features(), np.array([[0, 0, 16, 16], [0, 0, 16, 16]], np.float32),
                   [0, 1], 16, output=2).numpy()
    assert out.shape == (2, 2, 2, 1)
    assert out[0, ..., 0].tolist() == [[5, 7], [13, 15]]
    assert out[1, ..., 0].tolist() == [[105, 107], [113, 115]]      # batch_index picks


def test_a_sub_cell_roi_samples_bilinearly_then_takes_the_max():
    from cnnstudio.core.families.detection.roi_pool_tf import roi_pool_tf

    # RoI [4, 4, 8, 8] (one cell) in one output cell: 2×2 samples at pixels 5 and 7, i.e.
    # feature coordinates 0.75 and 1.25; 4y + x is linear, so the max is 4·1.25 + 1.25.
    out = roi_pool_tf(_features(), np.array([[4, 4, 8, 8]], np.float32), [0], (16, 16),
                   output=1).numpy()
    assert out.shape == (1, 1, 1, 1) and out[0, 0, 0, 0] == pytest.approx(6.25)
    # A non-square image: 16 px high, 32 wide over 4×4 cells → strides 4 and 8.
    out = roi_pool_tf(_features(), np.array([[0, 0, 16, 32]], np.float32), [0], (16, 32),
                   output=2).numpy()
    assert out[0, ..., 0].tolist() == [[5, 7], [13, 15]]


def test_the_pool_has_a_gradient_for_the_cells_it_takes():
    from cnnstudio.core.families.detection.roi_pool_tf import roi_pool_tf

    features = tf.Variable(_features()[:1])
    with tf.GradientTape() as tape:
        out = tf.reduce_sum(roi_pool_tf(features, np.array([[0, 0, 16, 16]], np.float32), [0],
                                     16, output=2))
    grad = tape.gradient(out, features).numpy()[0, ..., 0]
    expected = np.zeros((4, 4))
    expected[[1, 1, 3, 3], [1, 3, 1, 3]] = 1          # each quadrant's max cell
    assert np.allclose(grad, expected)
