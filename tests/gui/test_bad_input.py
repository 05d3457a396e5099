"""Bad input shows a clear message in the window, and the window keeps working."""

from __future__ import annotations

import pytest

from tests.gui.conftest import configure, tiny_config
from tests.gui.test_training_flow import drop


def test_corrupt_image_and_text_file_dropped(qtbot, studio, tmp_path):
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20)
    drop(studio.prediction, corrupt)
    assert studio.prediction.error.isVisible()
    assert "cannot read 'broken.png'" in studio.prediction.error.text()

    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    studio.drop_paths([str(text)])          # dropped on the window itself
    assert "cannot read 'notes.txt'" in studio.prediction.error.text()
    assert "does not look like an image" in studio.message.text()
    assert studio.isVisible()


def test_prediction_without_a_model_says_so(qtbot, studio, tmp_path):
    import cv2
    import numpy as np

    path = tmp_path / "fine.png"
    cv2.imwrite(str(path), np.full((20, 20), 128, np.uint8))
    drop(studio.prediction, path)
    assert "No model yet" in studio.prediction.view.error.text()


def test_empty_folder_opened(qtbot, studio, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    studio.drop_paths([str(empty)])         # a folder dropped on the window = a dataset
    qtbot.waitUntil(lambda: studio.dataset.error.isVisible(), timeout=30_000)
    assert "no images found" in studio.dataset.error.text()
    assert not studio.training.start.isEnabled()
    assert "dataset: no images found" in studio.training.problems.text()
    # Nothing is lost: picking a registered dataset again works.
    configure(qtbot, studio, tiny_config())
    assert studio.training.start.isEnabled()


def test_batch_size_zero(qtbot, studio):
    configure(qtbot, studio, tiny_config())
    studio.training.batch.setValue(0)
    assert not studio.training.start.isEnabled()
    assert "batch_size must be a positive integer, got 0" in studio.training.problems.text()
    studio.start_training()                 # Ctrl+R path: refuses, says why
    assert not studio.bridge.running
    assert "Cannot train" in studio.message.text()
    studio.training.batch.setValue(32)
    assert studio.training.start.isEnabled()


def test_model_too_deep_for_8x8_inputs(qtbot, studio):
    configure(qtbot, studio, tiny_config(options={}, model="lenet5", model_options={}))
    assert studio.architecture.problem_is_error
    assert "at least 12×12" in studio.architecture.status.text()
    assert studio.architecture.status.isVisible()
    assert not studio.training.start.isEnabled()
    # The fix the message suggests: upscale the digits.
    configure(qtbot, studio, tiny_config(options={"size": 16}, model="lenet5", model_options={}))
    assert studio.architecture.problem is None
    assert studio.training.start.isEnabled()
    shapes = {r["name"]: r["output_shape"] for r in studio.architecture.rows}
    assert shapes["c1"] == [None, 16, 16, 6] and shapes["s2"] == [None, 8, 8, 6]


@pytest.mark.slow
def test_a_huge_image_dropped_is_read_downscaled_and_the_window_says_so(qtbot, studio,
                                                                          tmp_path):
    from tests.huge_images import flat_png

    path = tmp_path / "huge.png"
    path.write_bytes(flat_png(20_000, 20_000))        # 400 MP, a few hundred kB on disk
    with qtbot.waitSignal(studio.prediction.noted, timeout=30_000) as noted:
        drop(studio.prediction, path)
    assert "20000×20000" in noted.args[0] and studio.message.text() == noted.args[0]
