"""The drawing pad: strokes land on the model's pixels, the eraser removes them, the mouse
draws where it is pressed."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from cnnstudio.gui.widgets.drawing_pad import DrawingPad


@pytest.fixture
def pad(qtbot):
    pad = DrawingPad(side=64)
    qtbot.addWidget(pad)
    pad.resize(256, 256)            # 4 screen pixels a model pixel
    return pad


def test_a_one_pixel_stroke_sets_exactly_its_row(pad, qtbot):
    pad.pen_width = 1
    with qtbot.waitSignal(pad.changed) as changed:
        pad.stroke([(10, 20), (30, 20)])
    image = changed.args[0]
    assert image.shape == (64, 64, 1) and image.dtype == np.uint8
    expected = np.zeros((64, 64), np.uint8)
    expected[20, 10:31] = 255
    assert np.array_equal(image[:, :, 0], expected)


def test_the_eraser_clears_and_clear_empties_the_pad(pad):
    pad.stroke([(0, 32), (63, 32)])
    assert pad.image()[32].max() == 255
    pad.set_tool("eraser")
    pad.stroke([(0, 32), (63, 32)])
    assert pad.image().max() == 0
    pad.set_tool("pen")
    pad.stroke([(5, 5)])
    pad.clear()
    assert pad.image().max() == 0
    with pytest.raises(ValueError, match="tool must be one of pen, eraser"):
        pad.set_tool("brush")


def test_a_mouse_drag_draws_under_the_pointer(pad, qtbot):
    pad.pen_width = 1
    pad.show()
    qtbot.waitExposed(pad)
    # Screen (42, 82) is model pixel (10, 20) at 4× (centre of the pixel: +2).
    qtbot.mousePress(pad, Qt.LeftButton, pos=QPoint(42, 82))
    qtbot.mouseMove(pad, QPoint(122, 82))
    qtbot.mouseRelease(pad, Qt.LeftButton, pos=QPoint(122, 82))
    drawn = np.argwhere(pad.image()[:, :, 0] == 255)
    assert set(drawn[:, 0]) == {20}
    assert drawn[:, 1].min() == 10 and drawn[:, 1].max() == 30


def test_set_image_refuses_another_size(pad):
    with pytest.raises(ValueError, match="the pad is 64×64, the image 32×32"):
        pad.set_image(np.zeros((32, 32, 1), np.uint8))
    pad.set_side(32)
    pad.set_image(np.full((32, 32, 1), 255, np.uint8), emit=False)
    assert pad.image().shape == (32, 32, 1) and pad.image().min() == 255
