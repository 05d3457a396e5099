"""The R-CNN story tab (book chapter 7): one image through R-CNN, Fast R-CNN, Faster R-CNN's
region proposal network and Mask R-CNN, a step at a time, each with its time on this
machine (``story_steps`` builds what each step shows).

The run open or training is one of the three; the other two are the newest runs of those
models on the same dataset in the same runs folder (``sibling_runs``). Each model answers
where it lives (``WaitingAccess``: the training thread between batches, else an inference
copy), so the story works while one of them trains.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.training.run_siblings import read_config, sibling_runs
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui.families.detection import probe_source
from cnnstudio.gui.families.detection import story_steps as ss
from cnnstudio.gui.families.detection.box_layer import BoxLayer
from cnnstudio.gui.families.detection.model_access import WaitingAccess
from cnnstudio.gui.families.detection.step_controls import StepControls
from cnnstudio.gui.families.detection.timing_strip import TimingStrip
from cnnstudio.gui.model_access import Answers
from cnnstudio.gui.widgets.mosaic import BACKGROUND


def _work(model_id: str, image: np.ndarray):
    """What each model is asked (runs on the model's own thread)."""
    def rcnn(model):
        return model.story(image)

    def maskrcnn(model):
        import time

        from cnnstudio.core.families.detection import maskrcnn_probes

        start = time.perf_counter()
        answer = maskrcnn_probes.pipeline(model, image, top_n=50)
        answer["ms"] = {"all": (time.perf_counter() - start) * 1e3}
        answer["cnn_calls"] = 1
        return answer

    return maskrcnn if model_id == "maskrcnn" else rcnn


def story_runs(run_dir) -> dict[str, Path]:
    """Model id → run folder for the story: ``run_dir`` for its own model, and the newest
    sibling run of each other detector on the same dataset that has a saved model."""
    config = read_config(run_dir)
    if config is None:
        return {}
    found = {config.model.id: Path(run_dir)} if config.model.id in ss.STAGES else {}
    for other, theirs in sibling_runs(run_dir, models=ss.STAGES, config=config):
        if theirs.model.id not in found and RunDir(other.path).model_path() is not None:
            found[theirs.model.id] = other.path
    return found


class RcnnStoryPanel(QWidget):
    stepped = Signal(int)           # a step is on screen (tests, screenshots)

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.image: np.ndarray | None = None
        self.caption = ""
        self.step = 0
        self.runs: dict[str, Path] = {}
        self.results: dict[str, dict] = {}      # model id → its answer for the image
        self.scene: ss.Scene | None = None
        # (``answers``: the tabs ask it whether a request is on its way)
        self.answers = Answers(self)
        self.access = {m: WaitingAccess(window, self.answers) for m in ss.STAGES}

        self.plot = pg.GraphicsLayoutWidget()
        self.plot.setBackground(BACKGROUND)
        self.plot.setMinimumSize(260, 220)
        self.title = self.plot.addLabel("", row=0, col=0, size="10pt", color="#e8e8e8")
        self.box = self.plot.addViewBox(row=1, col=0, lockAspect=True, invertY=True,
                                        enableMenu=False)
        self.photo_item = pg.ImageItem(axisOrder="row-major")
        self.overlay_item = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.photo_item)
        self.box.addItem(self.overlay_item)
        self.layer = BoxLayer(self.box, 1.5)

        self.controls = StepControls(self, ss.STEPS, self.show_step)
        self.back_button, self.step_box, self.next_button = self.controls.widgets()
        bar = QHBoxLayout()
        for widget in self.controls.widgets():
            bar.addWidget(widget)
        bar.addStretch(1)
        self.why = QLabel(wordWrap=True)
        self.explain = QLabel(wordWrap=True)
        self.timing = TimingStrip()
        self.status = QLabel("Open or train an R-CNN, Fast R-CNN or Mask R-CNN run on the "
                             "shapes data: the story runs on its first probe image, or on "
                             "any image you click or drop.", wordWrap=True)
        self.status.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.why)
        layout.addWidget(self.explain)
        layout.addWidget(self.timing)
        layout.addWidget(self.status)
        self.show_step(0)

    # -- the registry's hooks -------------------------------------------------------------
    def open_run(self, path) -> None:
        self._set_run(Path(path))

    def run_started(self, event) -> None:
        self._set_run(Path(event.run_dir))

    def run_finished(self, event) -> None:
        if self.image is not None:
            self.recompute()            # the saved model now answers for the live one

    def probe_ready(self, event) -> None:
        if self.image is None and self.runs:
            self._first_probe()

    def set_image(self, image, caption: str = "") -> None:
        self.image, self.caption = ss.rgb(image), caption or "chosen image"
        self.recompute()

    def shown(self) -> None:
        if self.scene is not None:      # fitted to the size the tab has now it is in front
            self.box.autoRange(padding=0.02)

    def busy(self) -> bool:
        return any(access.busy() for access in self.access.values())

    def close_panel(self) -> None:
        for access in self.access.values():
            access.close()

    # -- asking the models ----------------------------------------------------------------
    def _set_run(self, run_dir: Path) -> None:
        self.runs = story_runs(run_dir)
        for model_id, access in self.access.items():
            access.set_run(self.runs.get(model_id))
        self.results = {}
        if self.image is not None:
            self.recompute()
        else:
            self._first_probe()

    def _first_probe(self) -> None:
        for run_dir in self.runs.values():
            found = probe_source.first_probe_image(run_dir)
            if found is not None:
                self.set_image(*found)
                return

    def recompute(self) -> None:
        if self.image is None or not self.runs:
            return
        image = self.image
        self.results = {}
        asked = [m for m in ss.STAGES if m in self.runs]
        self.status.setText(f"Asking {', '.join(ss.NAMES[m] for m in asked)} about "
                            f"{self.caption}…")
        for model_id in asked:
            self.access[model_id].submit(
                f"story-{model_id}", _work(model_id, image),
                lambda answer, m=model_id: self._answered(m, image, answer),
                lambda error, m=model_id: self._failed(m, error))

    def _answered(self, model_id: str, image, answer: dict) -> None:
        if image is not self.image:
            return                      # a newer image was chosen meanwhile
        self.results[model_id] = answer
        self.timing.set_rows(ss.timing_rows(self.results))
        missing = [ss.NAMES[m] for m in ss.STAGES if m not in self.runs]
        self.status.setText(f"The story of {self.caption}: "
                            + (f"no {', '.join(missing)} run beside this one yet"
                               if missing else "all three detectors answered"
                               if len(self.results) == 3 else "answers arriving…"))
        self.show_step(self.step)

    def _failed(self, model_id: str, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"⚠ {ss.NAMES[model_id]}: {text}")

    # -- drawing -----------------------------------------------------------------------------
    def show_step(self, step: int) -> None:
        step = self.step = self.controls.show(step)
        self.why.setText(f"<b>{step + 1}. {ss.STEPS[step]}</b> — {ss.WHY[step]}")
        if self.image is None:
            return
        scene = ss.build_scene(step, self.image, self.results)
        if scene.missing and scene.missing in self.runs:    # asked, not answered yet
            scene.caption = f"Waiting for {ss.NAMES[scene.missing]}…"
        resized = self.scene is None or \
            self.scene.background.shape[:2] != scene.background.shape[:2]
        self.scene = scene
        self.photo_item.setImage(scene.background, autoLevels=False, levels=(0, 255))
        if scene.overlay is not None:
            self.overlay_item.setImage(scene.overlay, autoLevels=False, levels=(0, 255))
        else:
            self.overlay_item.clear()
        if resized:
            self.box.autoRange(padding=0.02)
        self.layer.draw(scene.boxes, scene.colours, scene.labels)
        self.title.setText(f"{step + 1}/{len(ss.STEPS)} {ss.STEPS[step]} · {self.caption}")
        self.explain.setText(scene.caption)
        self.stepped.emit(step)

    def drawn_boxes(self) -> int:
        """Box items on screen now (tests)."""
        return self.layer.drawn()
