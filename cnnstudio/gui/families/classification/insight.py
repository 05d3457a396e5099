"""The classifier's insight tabs (chapters 1–5), linked to each other and to the run.

Where the model lives decides who may touch it: during training the panels ask the
run's thread (``RunControl.submit``, served between batches); for a saved run one
shared inference copy (``ModelRunner``) serves them all from its own thread. Clicking
an image anywhere (confusion cell, error gallery, dataset sample, dropped file) sends it
to feature maps, Grad-CAM and the prediction panel. This controller receives the run's
hooks once for all seven tabs (``cnnstudio.gui.registry``).
"""

from __future__ import annotations

from pathlib import Path

from cnnstudio.core.probes.recorder import ProbeStore
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui.families.classification.insight_activation_max import ActivationMaxPanel
from cnnstudio.gui.families.classification.insight_confusion import ConfusionPanel
from cnnstudio.gui.families.classification.insight_epochs import EpochSliderPanel
from cnnstudio.gui.families.classification.insight_errors import ErrorGalleryPanel
from cnnstudio.gui.families.classification.insight_feature_maps import FeatureMapsPanel
from cnnstudio.gui.families.classification.insight_filters import FiltersPanel
from cnnstudio.gui.families.classification.insight_gradcam import GradCamPanel
from cnnstudio.gui.model_access import ModelRunner


class ClassifierInsight:
    def __init__(self, window):
        self.window = window
        self.filters = FiltersPanel()
        self.feature_maps = FeatureMapsPanel()
        self.gradcam = GradCamPanel()
        self.activation = ActivationMaxPanel()
        self.confusion = ConfusionPanel()
        self.errors = ErrorGalleryPanel()
        self.epochs = EpochSliderPanel()
        self.panels = (self.filters, self.feature_maps, self.gradcam, self.activation,
                       self.confusion, self.errors, self.epochs)
        self.live = (self.filters, self.feature_maps, self.gradcam, self.activation)
        self.saved = (*self.live, self.confusion, self.errors)
        self.runner: ModelRunner | None = None
        self._stale: set = set()
        for gallery in (self.confusion, self.errors):
            gallery.imageActivated.connect(window.tabs.show_image)
            gallery.imageActivated.connect(window.prediction.predict_image)
        self.filters.filterClicked.connect(self.dream_about)
        self.filters.filterCut.connect(self.cut_filter)

    # -- where the model comes from ----------------------------------------
    def run_started(self, event) -> None:
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
        # The epoch replay redraws its mosaics on reload: only worth it on screen.
        self._stale.add(self.epochs)
        self.tab_shown(self.window.tabs.current_panel())
        self._show_first_probe(self.window.bridge.run_dir)

    def open_run(self, path) -> None:
        """A finished or reopened run: one inference copy serves the panels."""
        self.close_runner()
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
            self.window.tabs.show_image(images[0], f"probe image 1 (class {name})")

    def close_runner(self) -> None:
        if self.runner is not None:
            self.runner.close()
            self.runner = None

    close_panel = close_runner

    # -- linked views --------------------------------------------------------
    def epoch_done(self, event) -> None:
        # A refresh asks the training thread for work: only the tab on screen is worth it;
        # the other one catches up when it is shown.
        self._stale |= {self.filters, self.feature_maps, self.confusion, self.errors}
        self.tab_shown(self.window.tabs.current_panel())

    def tab_shown(self, current) -> None:
        # (Grad-CAM marks itself stale when asked while hidden; other tabs are not ours.)
        if current in self._stale or (current is self.gradcam and self.gradcam.stale):
            self._stale.discard(current)
            current.refresh()

    def set_image(self, image, caption: str = "") -> None:
        self.feature_maps.set_image(image, caption)
        self.gradcam.set_image(image, caption)

    def dream_about(self, layer: str, index: int) -> None:
        self.activation.choose(layer, index)
        self.window.tabs.show_panel(self.activation)

    def cut_filter(self, layer: str, index: int) -> None:
        """Ctrl+click in Filters: that filter switched off (or back on) in Cut it."""
        panel = self.window.tabs.panel("surgery")
        panel.cut_filter(layer, index)
        self.window.tabs.show_panel(panel)


def _class_names(run_dir) -> list[str]:
    try:
        return RunDir.open(Path(run_dir)).read_json("dataset.json", {}).get("class_names", [])
    except Exception:          # a run folder being written: names come with the next open
        return []
