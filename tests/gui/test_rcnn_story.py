"""The R-CNN story tab: each step draws what its model answered (hand-made answers with known
values), names the preset to train when a model's run is missing, times each model in the
strip, and finds its runs beside the open one."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.families.detection.instances import class_color
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui.families.detection import story_steps as ss

NAMES = ["background", "square", "circle", "triangle"]
IMAGE = np.full((64, 64, 3), 40, np.uint8)


def _detections(boxes, ids, scores):
    return {"boxes": np.asarray(boxes, np.float32).reshape(-1, 4),
            "class_ids": np.asarray(ids, np.int32), "scores": np.asarray(scores, np.float32),
            "class_names": NAMES, "image_size": (64, 64)}


def answers():
    square = _detections([[8, 8, 24, 24]], [1], [0.9])
    crop_scores = np.array([[0.1, 0.8, 0.05, 0.05], [0.2, 0.1, 0.6, 0.1]], np.float32)
    roi_scores = np.array([[0.9, 0.05, 0.03, 0.02], [0.1, 0.1, 0.1, 0.7],
                           [0.2, 0.7, 0.05, 0.05]], np.float32)
    return {
        "rcnn": {"proposals": np.array([[0, 0, 10, 10], [8, 8, 24, 24], [30, 30, 60, 60]],
                                       np.float32),
                 "crops": np.full((2, 16, 16, 3), 200, np.uint8), "crop_scores": crop_scores,
                 "crop_boxes": np.zeros((2, 4), np.float32), "detections": square,
                 "cnn_calls": 3, "ms": {"proposals": 30.0, "cnn": 90.0, "nms": 1.0}},
        "fast-rcnn": {"proposals": np.zeros((3, 4), np.float32),
                      "feature_map": np.arange(16, dtype=np.float32).reshape(4, 4),
                      "feature_stride": 16,
                      "rois": np.array([[0, 0, 8, 8], [10, 10, 20, 20], [30, 30, 40, 40]],
                                       np.float32),
                      "roi_scores": roi_scores, "detections": square, "cnn_calls": 1,
                      "ms": {"proposals": 30.0, "backbone": 5.0, "heads": 2.0, "nms": 1.0}},
        "maskrcnn": {"proposals": np.array([[0, 0, 9, 9], [5, 5, 30, 30]], np.float32),
                     "objectness": np.array([0.9, 0.1], np.float32),
                     "anchors": {2: np.zeros((12, 4), np.float32)},
                     "detections": {**square, "mask_28": np.ones((1, 28, 28), np.float32)},
                     "ms": {"all": 20.0}, "cnn_calls": 1},
    }


@pytest.mark.slow
def test_selective_search_step_draws_every_proposal_with_its_time():
    scene = ss.build_scene(0, IMAGE, answers())
    assert scene.boxes.tolist() == answers()["rcnn"]["proposals"].tolist()
    assert scene.caption.startswith("3 proposals in 30 ms")


@pytest.mark.slow
def test_rcnn_step_tiles_the_crops_labelled_by_their_best_class():
    scene = ss.build_scene(1, IMAGE, answers())
    assert scene.labels == ["square 0.80", "circle 0.60"]
    assert scene.colours == [class_color(1), class_color(2)]
    gap = 2                                       # 16-pixel tiles get a 2-pixel gap
    assert scene.background.shape == (16, 16 * 2 + gap, 3)
    assert tuple(scene.background[5, 5]) == (200, 200, 200)
    assert scene.boxes.tolist() == [[0, 0, 16, 16], [0, 18, 16, 34]]
    assert "ran 3 times, once per proposal (90 ms, 30.00 ms each)" in scene.caption


@pytest.mark.slow
def test_fast_rcnn_step_shows_the_feature_map_and_the_most_object_like_rois_first():
    scene = ss.build_scene(2, IMAGE, answers())
    assert scene.boxes.tolist() == [[10, 10, 20, 20], [30, 30, 40, 40], [0, 0, 8, 8]]
    assert scene.colours == [class_color(3), class_color(1), class_color(1)]
    # The map's smallest cell (top left) is dark under the image, the largest bright.
    assert scene.background[0, 0].sum() < scene.background[63, 63].sum()
    assert "a 4×4 feature map (stride 16" in scene.caption and "all 3 proposals" in scene.caption


@pytest.mark.slow
def test_rpn_step_colours_proposals_by_objectness_surest_on_top():
    scene = ss.build_scene(3, IMAGE, answers())
    assert scene.boxes.tolist() == [[5, 5, 30, 30], [0, 0, 9, 9]]
    assert scene.colours[1][0] > scene.colours[0][0]     # viridis: yellow over purple
    assert "scored 12 anchors" in scene.caption


@pytest.mark.slow
def test_mask_step_paints_each_mask_in_its_class_colour():
    scene = ss.build_scene(4, IMAGE, answers())
    assert tuple(scene.overlay[16, 16]) == (*class_color(1), 150)
    assert scene.overlay[40, 40, 3] == 0
    assert scene.labels == ["square 0.90"]


def test_a_missing_model_names_the_preset_that_fills_its_step():
    scene = ss.build_scene(2, IMAGE, {"rcnn": answers()["rcnn"]})
    assert scene.missing == "fast-rcnn" and scene.boxes.shape == (0, 4)
    assert "train the chapter7-fast-rcnn-shapes preset" in scene.caption
    assert ss.build_scene(0, IMAGE, {"fast-rcnn": answers()["fast-rcnn"]}).missing is None


@pytest.mark.slow
def test_the_timing_rows_add_each_models_stages():
    rows = ss.timing_rows(answers())
    assert rows == [
        ("R-CNN", [("selective search", 30.0), ("CNN", 90.0), ("NMS", 1.0)], 3),
        ("Fast R-CNN", [("selective search", 30.0), ("backbone", 5.0), ("heads", 2.0),
                        ("NMS", 1.0)], 1),
        ("Mask R-CNN", [("RPN, heads and masks", 20.0)], 1)]
    assert [sum(ms for _, ms in parts) for _, parts, _ in rows] == [121.0, 38.0, 20.0]


def _run(root, model_id, dataset="shapes", saved=True):
    config = RunConfig(DatasetConfig(dataset, {"size": 64}), ModelConfig(model_id, {}),
                       TrainConfig(epochs=1))
    run = RunDir.create(config, root=root, path=root / f"{len(list(root.iterdir()))}-{model_id}")
    if saved:
        (run.path / "model.keras").write_bytes(b"")
    return run.path


@pytest.mark.slow
def test_the_story_finds_the_newest_saved_run_of_each_detector_on_the_same_data(tmp_path):
    from cnnstudio.gui.families.detection.rcnn_story_panel import story_runs

    old_rcnn = _run(tmp_path, "rcnn")
    rcnn = _run(tmp_path, "rcnn")
    _run(tmp_path, "maskrcnn", dataset="coco")          # other data: not in the story
    _run(tmp_path, "maskrcnn", saved=False)             # nothing saved yet: not asked
    fast = _run(tmp_path, "fast-rcnn")
    assert story_runs(fast) == {"fast-rcnn": fast, "rcnn": rcnn}
    assert story_runs(old_rcnn)["rcnn"] == old_rcnn


@pytest.fixture
def panel(qtbot):
    from cnnstudio.gui.families.detection.rcnn_story_panel import RcnnStoryPanel

    widget = RcnnStoryPanel()
    qtbot.addWidget(widget)
    yield widget
    widget.close_panel()


def test_the_panel_steps_through_the_answers_and_times_them(panel, qtbot):
    panel.image, panel.caption = IMAGE, "probe image 1"
    panel.runs = {m: None for m in ss.STAGES}
    for model_id, answer in answers().items():
        panel._answered(model_id, panel.image, answer)
    assert [name for name, _, _ in panel.timing.rows] == ["R-CNN", "Fast R-CNN", "Mask R-CNN"]
    assert "all three detectors answered" in panel.status.text()
    assert not panel.busy() and not panel.answers.busy()    # what the window's tabs ask
    with qtbot.waitSignal(panel.stepped) as shown:
        panel.next_button.click()
    assert shown.args == [1] and panel.drawn_boxes() == 2
    panel.show_step(4)
    assert not panel.next_button.isEnabled() and panel.drawn_boxes() == 1
    assert "He et al. (2017)" in panel.why.text()
    assert panel.overlay_item.image is not None
