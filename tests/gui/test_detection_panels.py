"""The detection family's views on hand-made detections: the overlay's threshold and opacity
sliders (items and pixels), a clicked instance's 28×28 mask, per-epoch replay, the pipeline
stepper's steps, and the COCO model in the prediction dock (tiny SavedModel, no download)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnstudio.core.families.detection.instances import Instances, class_color, paste_masks
from cnnstudio.core.training.events import ProbeReady

NAMES = ["background", "square", "circle", "triangle"]
BOXES = np.array([[10, 10, 40, 40], [50, 20, 90, 70], [60, 80, 100, 120]], np.float32)


def hand_made(scores=(0.9, 0.6, 0.2)) -> tuple[np.ndarray, Instances]:
    image = np.full((128, 128, 3), 40, np.uint8)
    box_masks = np.ones((3, 28, 28), np.float32)
    box_masks[1, :, 14:] = 0                       # the circle: the left half of its box
    masks = paste_masks(box_masks, BOXES, 128, 128)
    return image, Instances(BOXES, [1, 2, 3], list(scores), NAMES, (128, 128), masks, box_masks)


def test_overlay_draws_instances_and_the_threshold_hides_low_scores(qtbot):
    from cnnstudio.gui.families.detection.instances_view import InstancesView

    view = InstancesView()
    qtbot.addWidget(view)
    image, inst = hand_made()
    view.set_instances(image, inst, "hand-made")
    view.opacity.setValue(100)
    assert view.visible().tolist() == [0, 1]            # default threshold 0.50
    assert [r.isVisible() for r in view.rects] == [True, True, False]
    assert [t.isVisible() for t in view.labels] == [True, True, False]
    assert view.labels[0].textItem.toPlainText() == "square 0.90"
    rgba = view.mask_rgba
    assert tuple(rgba[20, 20]) == (*class_color(1), 255)
    assert tuple(rgba[70, 30]) == (*class_color(2), 255)  # left half of the circle's box
    assert rgba[70, 60, 3] == 0 and rgba[80, 100, 3] == 0  # right half; the hidden triangle
    with qtbot.waitSignal(view.redrawn):
        view.set_threshold(0.1)
    assert view.visible().tolist() == [0, 1, 2]
    assert tuple(view.mask_rgba[80, 100]) == (*class_color(3), 255)
    view.opacity.setValue(40)
    assert view.mask_rgba[20, 20, 3] == 102
    assert tuple(view.composite()[0, 0]) == (40, 40, 40)
    assert "3 of 3" in view.summary.text()


def test_clicking_an_instance_shows_its_mask_and_score(qtbot):
    from cnnstudio.gui.families.detection.instances_view import InstancesView

    view = InstancesView()
    qtbot.addWidget(view)
    image, inst = hand_made()
    view.set_instances(image, inst)
    assert view.instance_at(60, 70) is None            # inside the circle's box, off its mask
    assert view.instance_at(100, 80) is None           # the triangle is hidden (score 0.2)
    index = view.instance_at(30, 70)
    with qtbot.waitSignal(view.instanceClicked) as clicked:
        view.choose(index)
    assert clicked.args == [1]
    assert view.detail.image.shape[:2] == (28, 28)
    assert "circle · score 0.600" in view.detail.title.text
    assert "0.600" in view.summary.text()


def test_detections_tab_replays_epochs_from_probe_events(qtbot):
    from cnnstudio.gui.families.detection.detections_panel import DetectionsPanel

    panel = DetectionsPanel()
    qtbot.addWidget(panel)
    image, inst = hand_made()
    early = inst.select([2])                             # epoch 1 finds only the triangle
    for epoch, found in ((1, early), (2, inst)):
        payload = {"images": image[None], "detections": [found.to_dict()]}
        with qtbot.waitSignal(panel.updated):
            panel.probe_ready(ProbeReady("detections", epoch, payload=payload))
    assert panel.epochs == [1, 2] and len(panel.view.instances) == 3
    with qtbot.waitSignal(panel.updated):
        panel.slider.setValue(0)
    assert panel.view.instances.labels == ["triangle"]
    assert panel.epoch_label.text().startswith("1")
    panel.probe_ready(ProbeReady("other-probe", 3, payload={}))  # not ours: ignored
    assert panel.epochs == [1, 2]
    panel.show_instances(image, early, "a dropped photo")   # the user's photo stays shown …
    panel.probe_ready(ProbeReady("detections", 3, payload={"images": image[None],
                                                           "detections": [inst.to_dict()]}))
    assert panel.view.title.text == "a dropped photo" and panel.epoch_label.text() == \
        "1  (of 3)"                                          # … while epoch 3 joins the slider


def hand_made_pipeline() -> dict:
    _, inst = hand_made()
    # P2: 4 positions × 3 shapes (16×16, 32×16, 16×32); P3: one position, the same shapes.
    shapes = np.array([[-8, -8, 8, 8], [-16, -8, 16, 8], [-8, -16, 8, 16]], np.float32)
    centres = np.array([[32, 32], [32, 96], [96, 32], [64, 64]], np.float32)
    anchors = {"P2": np.concatenate([shapes + np.tile(c, 2) for c in centres]),
               "P3": shapes * 2 + 64}
    rng = np.random.default_rng(0)
    proposals = np.sort(rng.uniform(0, 120, (7, 4)), axis=1)[:, [0, 1, 2, 3]]
    return {"anchors": anchors, "proposals": proposals,
            "objectness": np.linspace(0.1, 0.99, 7), "after_nms": proposals[:3],
            "detections": {"boxes": inst.boxes[:2], "class_ids": [1, 2], "scores": [0.9, 0.6],
                           "mask_28": inst.box_masks[:2], "class_names": NAMES},
            "class_names": NAMES}


def test_pipeline_stepper_shows_each_steps_items(qtbot):
    from cnnstudio.gui.families.detection.pipeline_stepper import PipelineStepper

    stepper = PipelineStepper()
    qtbot.addWidget(stepper)
    image, _ = hand_made()
    with qtbot.waitSignal(stepper.stepped):
        stepper.show_pipeline(image, hand_made_pipeline(), "hand-made")
    assert stepper.counts == {0: 12, 1: 7, 2: 3, 3: 2, 4: 2}
    assert stepper.step == 0 and stepper.drawn_boxes() == 3   # the centre position's shapes
    assert len(stepper.centre_item.data) == 4                 # a dot per position
    assert [r.rect().width() for r in stepper.layer.rects[:3]] == [16, 16, 32]
    assert stepper.layer.rects[0].rect().center().x() == 64
    assert "12 anchors at level P2: 4 positions (dots) × 3 shapes" in stepper.explain.text()
    stepper.level.setCurrentIndex(1)
    assert "3 anchors at level P3: 1 position (dots) × 3 shapes" in stepper.explain.text()
    drawn = []
    for _ in range(4):
        stepper.next_button.click()
        drawn.append(stepper.drawn_boxes())
    assert drawn == [7, 3, 2, 2] and stepper.step == 4
    assert not stepper.next_button.isEnabled()
    assert stepper.layer.texts[0].textItem.toPlainText() == "square 0.90"
    assert stepper.mask_item.image[20, 20, 3] > 0       # step 5 paints the masks
    stepper.back_button.click()
    assert stepper.mask_item.image is None               # step 4: boxes only


def test_prediction_dock_asks_before_the_coco_download_then_shows_its_instances(qtbot,
                                                                                 monkeypatch):
    # The loader itself is tested on a tiny SavedModel in tests/core; here the dock's part:
    # it asks before downloading, works off the GUI thread and draws what the model found.
    from cnnstudio.core.families.detection import coco_pretrained as zoo
    from cnnstudio.gui.families.detection.coco_action import CocoFinder
    from cnnstudio.gui.families.detection.detection_prediction_view import (
        COCO,
        DetectionPredictionView,
    )

    cached, asked, ran = [False], [], []
    monkeypatch.setattr(zoo, "is_cached", lambda: cached[0])
    monkeypatch.setattr(CocoFinder, "ask", staticmethod(lambda parent: asked.append(1) or False))

    def detect(image, progress=None, min_score=0.05):
        ran.append(image.shape)
        photo, inst = hand_made()
        inst.extra["ms"] = 12.0
        return photo, inst

    monkeypatch.setattr(zoo, "detect", detect)
    view = DetectionPredictionView()
    qtbot.addWidget(view)
    view.set_run_dir(None)
    assert view.source.currentIndex() == COCO            # no run: only the COCO model answers
    image = np.full((40, 64, 3), 90, np.uint8)
    view.predict_image(image, "photo.png")               # not downloaded: asks, user says no
    assert asked == [1] and ran == [] and "Not downloaded" in view.result.text()
    cached[0] = True
    with qtbot.waitSignal(view.detected, timeout=10_000):
        view.predict_image(image, "photo.png")
    assert asked == [1] and ran == [(40, 64, 3)]         # cached: no question
    assert view.view.visible().tolist() == [0, 1]
    assert "photo.png · COCO Mask R-CNN</b>: 3 instances · 12 ms" in view.result.text()
    view.close_panel()


@pytest.mark.parametrize("panel_id, title", [("detections", "Detections"),
                                             ("pipeline", "Pipeline")])
@pytest.mark.slow
def test_detection_tabs_are_registered_for_the_detection_task(panel_id, title):
    from cnnstudio.gui.registry import PANELS, PREDICTION_VIEWS

    assert PANELS.get(panel_id).title == title and PANELS.get(panel_id).serves("detection")
    assert "detect" in PREDICTION_VIEWS


def test_detections_tab_without_a_run_asks_the_coco_model(qtbot, monkeypatch):
    from cnnstudio.core.families.detection import coco_pretrained as zoo
    from cnnstudio.gui.families.detection.detections_panel import DetectionsPanel

    monkeypatch.setattr(zoo, "is_cached", lambda: True)
    monkeypatch.setattr(zoo, "detect", lambda image, progress=None, min_score=0.05: hand_made())
    panel = DetectionsPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.updated, timeout=10_000):
        panel.set_image(np.zeros((50, 50, 3), np.uint8), "astronaut")
    assert panel.view.title.text == "astronaut · COCO Mask R-CNN (pretrained)"
    assert len(panel.view.instances) == 3
    panel.close_panel()


@pytest.mark.slow
def test_coco_window_side_by_side_haar_faces_and_persons(qtbot, monkeypatch):
    from skimage import data

    from cnnstudio.core.families.detection import coco_pretrained as zoo
    from cnnstudio.gui.families.detection.coco_action import CocoDialog

    photo = data.astronaut()
    found = Instances([[20, 100, 510, 420], [300, 0, 512, 120]], [1, 18], [0.95, 0.7],
                      zoo.COCO_CLASS_NAMES, (512, 512), extra={"ms": 4321.0})
    monkeypatch.setattr(zoo, "is_cached", lambda: True)
    monkeypatch.setattr(zoo, "detect", lambda image, progress=None, min_score=0.05:
                        (photo, found))
    dialog = CocoDialog()
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.view.redrawn, timeout=10_000):
        dialog.find(photo, "astronaut")
    assert dialog.view.instances.labels == ["person", "dog"] and dialog.haar_view.isHidden()
    dialog.compare.setChecked(True)
    assert dialog.view.instances.labels == ["person"]
    assert dialog.haar_view.instances.labels == ["face"]
    assert dialog.view.title.text == "Mask R-CNN: 1 person · 4321 ms"
    assert dialog.haar_view.title.text.startswith("Haar cascade: 1 face · ")
    dialog.done(0)


def test_detections_tab_replays_a_runs_recorded_epochs_from_disk(qtbot, tmp_path):
    from cnnstudio.core.families.detection.maskrcnn_probes import DetectionStore
    from cnnstudio.gui.families.detection.detections_panel import DetectionsPanel

    image, inst = hand_made()
    store = DetectionStore(tmp_path)
    store.write_images(np.stack([image, image // 2]), NAMES)
    for epoch, keep in ((1, [2]), (2, [0, 1, 2])):
        found = inst.select(keep)
        store.write(epoch, [{"boxes": found.boxes, "class_ids": found.class_ids,
                             "scores": found.scores, "mask_28": found.box_masks}] * 2)
    panel = DetectionsPanel()
    qtbot.addWidget(panel)
    panel.open_run(tmp_path)
    assert panel.epochs == [1, 2] and panel.probe.maximum() == 2
    assert panel.view.instances.labels == ["square", "circle", "triangle"]
    np.testing.assert_array_equal(panel.view.instances.masks, inst.masks)   # pasted on use
    panel.slider.setValue(0)
    assert panel.view.instances.labels == ["triangle"]
    panel.probe.setValue(2)
    assert panel.view.image[0, 0, 0] == 20 and panel.view.title.text == \
        "Epoch 1 · probe image 2"


# -- issue 22: each preset predicts with the model it names ------------------------------------

def shapes_run(root, name="shapes-run") -> Path:
    """A maskrcnn run folder as the engine leaves it (config, probe images, two epochs of
    recorded detections), without the training."""
    from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
    from cnnstudio.core.families.detection.maskrcnn_probes import DetectionStore
    from cnnstudio.core.training.rundir import RunDir

    config = RunConfig(DatasetConfig("shapes", {"count": 40, "test_count": 8}),
                       ModelConfig("maskrcnn", {}), TrainConfig(epochs=2, batch_size=4))
    folder = RunDir.create(config, path=root / name)
    image, inst = hand_made()
    store = DetectionStore(folder.path)
    store.write_images(np.stack([image, image // 2]), NAMES)
    for epoch in (1, 2):
        store.write(epoch, [{"boxes": inst.boxes, "class_ids": inst.class_ids,
                             "scores": inst.scores, "mask_28": inst.box_masks}] * 2)
    return folder.path
