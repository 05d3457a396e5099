"""The centre tabs: the training curves, then the panels that serve the current task.

Which panels those are is declared, not branched on: each panel registers the tasks
it serves (gui/families/registry.py) and ``set_task`` shows exactly those, so a
GAN never shows a classifier's empty confusion tab. Family panels are built on
first use and receive the run's hooks (run_started, probe_ready, open_run, …).

The classifier's insight panels, linked to each other and the run:

Where the model lives decides who may touch it: during training the panels ask
the run's thread (``RunControl.submit``, served between batches); for a saved run
one shared inference copy (``ModelRunner``) serves them all from its own thread.
Clicking an image anywhere (confusion cell, error gallery, dataset sample,
dropped file) sends it to feature maps, Grad-CAM and the prediction panel.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QTabWidget

from cnnstudio.core.probes.recorder import ProbeStore
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui import families  # noqa: F401  (every family registers its panels)
from cnnstudio.gui.families.registry import PANELS, call, panels_for
from cnnstudio.gui.panels.insight_activation_max import ActivationMaxPanel
from cnnstudio.gui.panels.insight_confusion import ConfusionPanel
from cnnstudio.gui.panels.insight_epochs import EpochSliderPanel
from cnnstudio.gui.panels.insight_errors import ErrorGalleryPanel
from cnnstudio.gui.panels.insight_feature_maps import FeatureMapsPanel
from cnnstudio.gui.panels.insight_filters import FiltersPanel
from cnnstudio.gui.panels.insight_gradcam import GradCamPanel
from cnnstudio.gui.panels.insight_widgets import ModelRunner


class InsightTabs(QTabWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        self.setObjectName("centre_tabs")
        self.filters = FiltersPanel()
        self.feature_maps = FeatureMapsPanel()
        self.gradcam = GradCamPanel()
        self.activation = ActivationMaxPanel()
        self.confusion = ConfusionPanel()
        self.errors = ErrorGalleryPanel()
        self.epochs = EpochSliderPanel()
        self.addTab(window.plots, "Training curves")
        self.classifier = (self.filters, self.feature_maps, self.gradcam, self.activation,
                           self.confusion, self.errors, self.epochs)
        self.live = (self.filters, self.feature_maps, self.gradcam, self.activation)
        self.saved = (*self.live, self.confusion, self.errors)
        self.runner: ModelRunner | None = None
        self._stale: set = set()
        self.built: dict[str, object] = {}      # panel id → widget, built on first use
        self.task: str | None = None
        self.currentChanged.connect(self._refresh_if_shown)
        self._wire()

    # -- which tabs ----------------------------------------------------------
    def set_task(self, task: str) -> None:
        """Show the curves and the panels registered for ``task``, in registration order."""
        if task == self.task:
            return
        self.task = task
        current = self.currentWidget()
        while self.count() > 1:
            self.removeTab(1)
        for spec in panels_for(task):
            panel = self.panel(spec.id)
            self.setTabToolTip(self.addTab(panel, spec.title), spec.tip)
        if current is not None and self.indexOf(current) >= 0:
            self.setCurrentWidget(current)

    def panel(self, panel_id: str):
        if panel_id not in self.built:
            self.built[panel_id] = PANELS.get(panel_id).factory(self.window)
        return self.built[panel_id]

    def tab_titles(self) -> list[str]:
        return [self.tabText(i) for i in range(self.count())]

    def family_panels(self) -> list:
        """The built panels of other families serving the current task (they get hooks)."""
        return [self.built[s.id] for s in panels_for(self.task or "")
                if s.id in self.built and self.built[s.id] not in self.classifier]

    def _classifier_shown(self) -> bool:
        return any(self.indexOf(p) >= 0 for p in self.classifier)

    def _hook(self, method: str, *args) -> None:
        for panel in self.family_panels():
            call(panel, method, *args)

    def _wire(self) -> None:
        w, b = self.window, self.window.bridge
        b.started.connect(self.run_started)
        b.epoch.connect(self.epoch_done)
        b.probe.connect(self.probe_ready)
        b.finished.connect(self.run_finished)
        w.dataset.sample_clicked.connect(self.show_image)
        w.prediction.image_chosen.connect(self.show_image)
        for gallery in (self.confusion, self.errors):
            gallery.imageActivated.connect(self.show_image)
            gallery.imageActivated.connect(w.prediction.predict_image)
        self.filters.filterClicked.connect(self.dream_about)

    # -- where the model comes from ----------------------------------------
    def run_started(self, event) -> None:
        self._hook("run_started", event)
        if not self._classifier_shown():
            return
        names = _class_names(event.run_dir)
        # The confusion matrix and the error gallery fill during training too: the test
        # split predicted by the current model, each epoch, while their tab is shown.
        for gallery in (self.confusion, self.errors):
            gallery.live = True
        for panel in self.saved:
            panel.set_runner(self.window.bridge.control.submit, names, event.run_dir)
        self._stale |= {self.confusion, self.errors}
        self.epochs.set_run(event.run_dir)

    def probe_ready(self, event) -> None:
        self._hook("probe_ready", event)
        if self._classifier_shown():
            # The epoch replay redraws its mosaics on reload: only worth it on screen.
            self._stale.add(self.epochs)
            self._refresh_if_shown()
            self._show_first_probe(self.window.bridge.run_dir)

    def run_finished(self, event) -> None:
        self._hook("run_finished", event)
        self.open_run(event.run_dir)

    def open_run(self, path) -> None:
        """A finished or reopened run: one inference copy serves the classifier's panels;
        family panels read what they need from the run folder."""
        self.close_runner()
        self._hook("open_run", path)
        if not self._classifier_shown():
            return
        self.epochs.set_run(path)
        try:
            self.runner = ModelRunner.from_run(path)
        except FileNotFoundError:          # stopped before its first epoch: nothing to show
            return
        names = _class_names(path)
        for gallery in (self.confusion, self.errors):
            gallery.live = False
        for panel in self.saved:
            panel.set_runner(self.runner.submit, names, path)
        self._show_first_probe(path)

    def _show_first_probe(self, run_dir) -> None:
        """Feature maps and Grad-CAM are never empty once a run has probes: until the user
        picks an image they show the run's first probe image."""
        if run_dir is None or self.feature_maps.image is not None:
            return
        try:
            images, labels = ProbeStore(run_dir).images()
        except (OSError, KeyError, ValueError):      # no probes recorded (yet)
            return
        if len(images):
            names = _class_names(run_dir)
            label = int(labels[0]) if len(labels) else -1
            name = names[label] if 0 <= label < len(names) else "?"
            self.show_image(images[0], f"probe image 1 (class {name})")

    def close_runner(self) -> None:
        if self.runner is not None:
            self.runner.close()
            self.runner = None

    # -- linked views --------------------------------------------------------
    def epoch_done(self, event) -> None:
        self._hook("epoch_done", event)
        # A refresh asks the training thread for work: only the tab on screen is worth it;
        # the other one catches up when it is shown.
        self._stale |= {self.filters, self.feature_maps, self.confusion, self.errors}
        self._refresh_if_shown()

    def _refresh_if_shown(self, *_args) -> None:
        current = self.currentWidget()
        if current in self.family_panels():
            call(current, "shown")
        if current in self._stale:
            self._stale.discard(current)
            current.refresh()

    def show_image(self, image, caption: str = "") -> None:
        self._hook("set_image", image, caption)
        if self._classifier_shown():
            self.feature_maps.set_image(image, caption)
            self.gradcam.set_image(image, caption)

    def dream_about(self, layer: str, index: int) -> None:
        self.activation.choose(layer, index)
        self.setCurrentWidget(self.activation)

    def panels(self) -> dict[str, object]:
        """The panels on screen now, by id (screenshots, tests)."""
        return {s.id: self.panel(s.id) for s in panels_for(self.task or "")}

    def busy(self) -> bool:
        shown = [self.widget(i) for i in range(1, self.count())]
        return any(p.answers.busy() for p in shown if hasattr(p, "answers")) or any(
            p.busy() for p in shown if callable(getattr(p, "busy", None)))

    def close_panels(self) -> None:
        self.close_runner()
        for panel in self.built.values():
            if panel not in self.classifier:
                call(panel, "close_panel")


def _class_names(run_dir) -> list[str]:
    try:
        return RunDir.open(Path(run_dir)).read_json("dataset.json", {}).get("class_names", [])
    except Exception:          # a run folder being written: names come with the next open
        return []
