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
    assert [r.rect().width() for r in stepper.rects[:3]] == [16, 16, 32]
    assert stepper.rects[0].rect().center().x() == 64
    assert "12 anchors at level P2: 4 positions (dots) × 3 shapes" in stepper.explain.text()
    stepper.level.setCurrentIndex(1)
    assert "3 anchors at level P3: 1 position (dots) × 3 shapes" in stepper.explain.text()
    drawn = []
    for _ in range(4):
        stepper.next_button.click()
        drawn.append(stepper.drawn_boxes())
    assert drawn == [7, 3, 2, 2] and stepper.step == 4
    assert not stepper.next_button.isEnabled()
    assert stepper.texts[0].textItem.toPlainText() == "square 0.90"
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


def fake_window(task: str):
    from types import SimpleNamespace

    return SimpleNamespace(tabs=SimpleNamespace(task=task), bridge=None)


@pytest.fixture
def coco_answers(monkeypatch):
    """The pretrained model, cached, answering with the hand-made instances; a run model
    that is never to be asked records it."""
    from cnnstudio.core.families.detection import coco_pretrained as zoo
    from cnnstudio.gui.families.detection.model_access import WaitingAccess

    asked = {"coco": 0, "run": 0}

    def detect(image, progress=None, min_score=0.05):
        asked["coco"] += 1
        return hand_made()

    def run_model(self, key, fn, on_result, on_error):
        if key == "detect":                 # the pipeline stepper's steps are not asked here
            asked["run"] += 1
            on_result(hand_made()[1])

    monkeypatch.setattr(zoo, "is_cached", lambda: True)
    monkeypatch.setattr(zoo, "detect", detect)
    monkeypatch.setattr(WaitingAccess, "submit", run_model)
    return asked


def test_the_dock_picks_the_model_the_window_names(qtbot, tmp_path, coco_answers):
    from cnnstudio.gui.families.detection.detection_prediction_view import (
        COCO,
        COCO_HINT,
        RUN,
        DetectionPredictionView,
    )

    run = shapes_run(tmp_path)
    window = fake_window("detection")
    view = DetectionPredictionView(window)
    qtbot.addWidget(view)
    view.set_run_dir(run)                                   # a maskrcnn run: its own model
    assert view.source.currentIndex() == RUN
    view.predict_image(np.zeros((128, 128, 3), np.uint8), "shapes.png")
    assert coco_answers == {"coco": 0, "run": 1}
    assert "shapes.png · this run's model" in view.result.text()

    window.tabs.task = "coco-pretrained"                    # the COCO preset is loaded
    view.follow()
    assert view.source.currentIndex() == COCO
    assert not view.source.model().item(RUN).isEnabled()    # no run model to pick there
    assert view.view.image is None and view.result.text() == COCO_HINT  # the run's answer: gone
    view.source.setCurrentIndex(RUN)                        # even if forced: the preset's model
    with qtbot.waitSignal(view.detected, timeout=10_000):
        view.predict_image(np.zeros((50, 50, 3), np.uint8), "astronaut")
    assert coco_answers == {"coco": 1, "run": 1}
    assert "astronaut · COCO Mask R-CNN</b>: 3 instances" in view.result.text()

    window.tabs.task = "detection"                          # back to the shapes preset
    view.follow()
    assert view.source.currentIndex() == RUN and view.source.model().item(RUN).isEnabled()
    view.close_panel()


def test_the_dock_never_asks_a_run_of_another_task(qtbot, tmp_path, coco_answers):
    from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
    from cnnstudio.core.training.rundir import RunDir
    from cnnstudio.gui.families.detection.detection_prediction_view import (
        COCO,
        RUN,
        DetectionPredictionView,
    )
    from cnnstudio.gui.families.detection.model_access import run_task

    mlp = RunDir.create(RunConfig(DatasetConfig("digits", {}), ModelConfig("mlp", {}),
                                  TrainConfig(epochs=1)), path=tmp_path / "mlp-run").path
    assert run_task(mlp) == "classification" and run_task(shapes_run(tmp_path)) == "detection"
    view = DetectionPredictionView(fake_window("detection"))
    qtbot.addWidget(view)
    view.set_run_dir(mlp)                       # the last run was a classifier's
    assert view.source.currentIndex() == COCO and not view.source.model().item(RUN).isEnabled()
    view.close_panel()


def test_detections_tab_clears_another_tasks_run_and_brings_it_back(qtbot, tmp_path,
                                                                      coco_answers):
    from cnnstudio.gui.families.detection.detections_panel import (
        COCO_HINT,
        NO_EPOCHS,
        DetectionsPanel,
    )

    run = shapes_run(tmp_path)
    window = fake_window("detection")
    panel = DetectionsPanel(window)
    qtbot.addWidget(panel)
    panel.open_run(run)
    assert panel.epochs == [1, 2] and panel.view.title.text == "Epoch 2 · probe image 1"

    window.tabs.task = "coco-pretrained"        # the COCO preset: the tab comes to the front
    with qtbot.waitSignal(panel.updated):
        panel.shown()
    assert panel.epochs == [] and panel.run_dir is None and panel.view.image is None
    assert panel.epoch_label.text() == NO_EPOCHS and panel.status.text() == COCO_HINT
    assert panel.slider.maximum() == 0
    with qtbot.waitSignal(panel.updated, timeout=10_000):
        panel.set_image(np.zeros((50, 50, 3), np.uint8), "astronaut")
    assert coco_answers == {"coco": 1, "run": 0}
    assert panel.view.title.text == "astronaut · COCO Mask R-CNN (pretrained)"

    window.tabs.task = "detection"              # back on the shapes preset: its run returns
    panel.shown()
    assert panel.run_dir == run and panel.epochs == [1, 2]
    assert panel.view.title.text == "Epoch 2 · probe image 1"
    panel.set_image(np.zeros((128, 128, 3), np.uint8), "shapes.png")
    assert coco_answers == {"coco": 1, "run": 1}
    panel.close_panel()


def test_a_new_run_clears_the_last_runs_picture(qtbot, tmp_path):
    from types import SimpleNamespace

    from cnnstudio.gui.families.detection.detections_panel import NO_EPOCHS, DetectionsPanel

    panel = DetectionsPanel(fake_window("detection"))
    qtbot.addWidget(panel)
    panel.open_run(shapes_run(tmp_path))
    assert panel.view.image is not None
    panel.run_started(SimpleNamespace(run_dir=tmp_path / "next-run", resumed=False))
    assert panel.view.image is None and panel.epochs == []
    assert panel.epoch_label.text() == NO_EPOCHS


def offline_message(keras_home) -> str:
    from cnnstudio.core.families.detection import coco_pretrained as zoo

    folder = keras_home / "models" / "detection-zoo"
    return (f"cannot download {zoo.ARCHIVE} (no network); offline, fetch {zoo.URL} elsewhere "
            f"and place it at {folder / zoo.ARCHIVE} (or its extracted contents in "
            f"{folder / zoo.MODEL_NAME})")


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No network, nothing cached, the user says yes to the download."""
    import urllib.error

    from cnnstudio.core.families.detection import coco_pretrained as zoo
    from cnnstudio.gui.families.detection.coco_action import CocoFinder

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr("urllib.request.urlretrieve", no_network)
    monkeypatch.setattr(CocoFinder, "ask", staticmethod(lambda parent: True))
    # The real download path, without importing TensorFlow for the model it never gets.
    monkeypatch.setattr(zoo, "detect", lambda image, progress=None, min_score=0.05:
                        zoo.fetch(progress))
    return tmp_path / "keras"


def test_the_offline_message_fits_the_dock_and_copies_the_url(qtbot, offline):
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from cnnstudio.core.families.detection import coco_pretrained as zoo
    from cnnstudio.gui.families.detection.coco_action import DOWNLOAD_FAILED
    from cnnstudio.gui.families.detection.detection_prediction_view import (
        DetectionPredictionView,
    )

    dock = QWidget()                            # as narrow as a side dock
    view = DetectionPredictionView()
    QVBoxLayout(dock).addWidget(view)
    qtbot.addWidget(dock)
    dock.resize(300, 700)
    dock.show()
    qtbot.waitExposed(dock)
    assert view.note.isHidden()
    with qtbot.waitSignal(view.finder.failed, timeout=10_000):
        view.predict_image(np.zeros((40, 40, 3), np.uint8), "photo.png")
    note = view.note
    assert note.message == offline_message(offline)
    assert "detection-zoo/detection-zoo" not in note.message
    assert note.label.text().replace("\u200b", "") == note.message
    assert view.result.text() == DOWNLOAD_FAILED
    qtbot.waitUntil(lambda: note.isVisible() and note.label.height() >= note.label.heightForWidth(
        note.label.width()), timeout=5000)
    # Word-wrapped to the dock's width (the URL and the paths too) …
    assert note.minimumSizeHint().width() < 150 and view.minimumSizeHint().width() <= 300
    assert note.label.width() <= view.width()

    def rect(widget) -> QRect:
        return QRect(widget.mapTo(view, QPoint(0, 0)), widget.size())

    # … and below the sliders, not over them.
    for slider in (view.view.threshold, view.view.opacity):
        assert not rect(note.label).intersects(rect(slider))
        assert rect(note.label).top() >= rect(slider).bottom()
    QGuiApplication.clipboard().clear()
    note.copy_button.click()
    assert QGuiApplication.clipboard().text() == zoo.URL
    view.close_panel()


def test_the_detections_tab_shows_the_offline_message_with_copy_url(qtbot, offline):
    from cnnstudio.gui.families.detection.detections_panel import DetectionsPanel

    panel = DetectionsPanel(fake_window("coco-pretrained"))
    qtbot.addWidget(panel)
    panel.shown()
    with qtbot.waitSignal(panel.updated, timeout=10_000):
        panel.set_image(np.zeros((40, 40, 3), np.uint8), "astronaut")
    assert panel.note.message == offline_message(offline) and not panel.note.isHidden()
    with qtbot.waitSignal(panel.updated, timeout=10_000):
        panel.show_instances(*hand_made(), "a later answer")    # an answer hides it
    assert panel.note.isHidden()
    panel.close_panel()


def test_breakable_lets_long_words_wrap_and_leaves_words_alone():
    from cnnstudio.gui.families.detection.coco_action import breakable

    assert breakable("place it at /home/someone/.keras/models/detection-zoo now") == (
        "place it at /\u200bhome/\u200bsomeone/\u200b.\u200bkeras/\u200bmodels/\u200b"
        "detection-\u200bzoo now")
    assert breakable("a short-ish text, with dots.") == "a short-ish text, with dots."


def test_the_pipeline_buttons_use_icons_not_glyphs(qtbot):
    from cnnstudio.gui.families.detection.pipeline_stepper import PipelineStepper

    stepper = PipelineStepper()
    qtbot.addWidget(stepper)
    assert (stepper.back_button.text(), stepper.next_button.text()) == ("Back", "Next")
    assert not stepper.back_button.icon().isNull() and not stepper.next_button.icon().isNull()


def test_in_the_studio_the_coco_preset_never_uses_the_shapes_run(qtbot, studio, runs_root,
                                                                   coco_answers):
    """Issue 22, as a newcomer met it: a shapes run opened, then the COCO preset loaded from
    the menu; the astronaut must go to the pretrained model, in the dock and the tab."""
    from cnnstudio.gui.families.detection.detection_prediction_view import COCO, RUN

    run = shapes_run(runs_root)
    studio.open_run(str(run))
    qtbot.waitUntil(lambda: studio.background.idle, timeout=30_000)
    tabs, dock = studio.tabs, studio.prediction.view_for("detect")
    panel = tabs.panels()["detections"]
    assert tabs.task == "detection" and panel.epochs == [1, 2]
    assert dock.source.currentIndex() == RUN
    tabs.setCurrentIndex(tabs.tab_titles().index("Detections"))

    studio.preset_actions["chapter7-maskrcnn-coco-pretrained"].trigger()
    qtbot.waitUntil(lambda: studio.background.idle, timeout=30_000)
    # Nothing to train: no empty curves tab; the lesson opens on its detections.
    assert tabs.task == "coco-pretrained" and tabs.tab_titles() == ["Detections"]
    assert tabs.tabText(tabs.currentIndex()) == "Detections"   # the tab stayed in front …
    assert panels_shown(tabs) and panel not in panels_shown(tabs)  # a new subject, new panels
    panel = tabs.panels()["detections"]
    assert panel.epochs == [] and panel.view.image is None   # … without the shapes run
    assert dock.source.currentIndex() == COCO and not dock.source.model().item(RUN).isEnabled()

    photo = np.full((128, 128, 3), 120, np.uint8)
    studio.prediction.predict_image(photo, "astronaut")  # the dock and the Detections tab
    qtbot.waitUntil(lambda: coco_answers["coco"] == 2 and not tabs.busy()
                    and dock.view.image is not None, timeout=10_000)
    assert coco_answers["run"] == 0
    assert panel.view.title.text == "astronaut · COCO Mask R-CNN (pretrained)"
    assert "astronaut · COCO Mask R-CNN</b>: 3 instances" in dock.result.text()

    studio.open_run(str(run))                            # the shapes run again, as the subject
    qtbot.waitUntil(lambda: studio.background.idle, timeout=30_000)
    panel = tabs.panels()["detections"]
    assert tabs.task == "detection" and dock.source.currentIndex() == RUN
    assert panel.run_dir == run and panel.epochs == [1, 2]
    studio.prediction.predict_image(photo, "shapes")
    assert coco_answers == {"coco": 2, "run": 2}


def panels_shown(tabs) -> list:
    return list(tabs.panels().values())
