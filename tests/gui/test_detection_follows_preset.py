"""Detection follows the window (issue 22): the dock and the Detections tab use the model the
window names, never a run of another task; the COCO offline note fits where it is shown."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui.test_detection_panels import hand_made, shapes_run


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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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
