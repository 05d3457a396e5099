"""The insight panels as tabs beside the training curves, linked to each other and the run.

Where the model lives decides who may touch it: during training the panels ask
the run's thread (``RunControl.submit``, served between batches); for a saved run
one shared inference copy (``ModelRunner``) serves them all from its own thread.
Clicking an image anywhere (confusion cell, error gallery, dataset sample,
dropped file) sends it to feature maps, Grad-CAM and the prediction panel.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QTabWidget

from cnnstudio.core.training.rundir import RunDir
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
        for panel, title, tip in (
                (self.filters, "Filters", "The learned convolution kernels of each layer"),
                (self.feature_maps, "Feature maps", "What each layer makes of one image"),
                (self.gradcam, "Grad-CAM", "Where the network looks when it picks a class"),
                (self.activation, "Filter dreams", "An image that makes one filter fire hardest"),
                (self.confusion, "Confusion", "Which classes the test set mixes up"),
                (self.errors, "Errors", "The test images the model gets wrong, worst first"),
                (self.epochs, "Epoch replay", "Scrub filters and maps through the epochs")):
            self.setTabToolTip(self.addTab(panel, title), tip)
        self.live = (self.filters, self.feature_maps, self.gradcam, self.activation)
        self.saved = (*self.live, self.confusion, self.errors)
        self.runner: ModelRunner | None = None
        self._stale: set = set()
        self.currentChanged.connect(self._refresh_if_shown)
        self._wire()

    def _wire(self) -> None:
        w, b = self.window, self.window.bridge
        b.started.connect(self.run_started)
        b.epoch.connect(self.epoch_done)
        b.probe.connect(lambda event: self.epochs.reload())
        b.finished.connect(lambda event: self.open_run(event.run_dir))
        w.dataset.sample_clicked.connect(self.show_image)
        w.prediction.image_chosen.connect(self.show_image)
        for gallery in (self.confusion, self.errors):
            gallery.imageActivated.connect(self.show_image)
            gallery.imageActivated.connect(w.prediction.predict_image)
        self.filters.filterClicked.connect(self.dream_about)

    # -- where the model comes from ----------------------------------------
    def run_started(self, event) -> None:
        names = _class_names(event.run_dir)
        for panel in self.live:
            panel.set_runner(self.window.bridge.control.submit, names, event.run_dir)
        self.epochs.set_run(event.run_dir)

    def open_run(self, path) -> None:
        """A finished or reopened run: one inference copy serves every panel."""
        self.close_runner()
        self.epochs.set_run(path)
        try:
            self.runner = ModelRunner.from_run(path)
        except FileNotFoundError:          # stopped before its first epoch: nothing to show
            return
        names = _class_names(path)
        for panel in self.saved:
            panel.set_runner(self.runner.submit, names, path)

    def close_runner(self) -> None:
        if self.runner is not None:
            self.runner.close()
            self.runner = None

    # -- linked views --------------------------------------------------------
    def epoch_done(self, event) -> None:
        # A refresh asks the training thread for work: only the tab on screen is worth it;
        # the other one catches up when it is shown.
        self._stale = {self.filters, self.feature_maps}
        self._refresh_if_shown()

    def _refresh_if_shown(self, *_args) -> None:
        current = self.currentWidget()
        if current in self._stale:
            self._stale.discard(current)
            current.refresh()

    def show_image(self, image, caption: str = "") -> None:
        self.feature_maps.set_image(image, caption)
        self.gradcam.set_image(image, caption)

    def dream_about(self, layer: str, index: int) -> None:
        self.activation.choose(layer, index)
        self.setCurrentWidget(self.activation)

    def panels(self) -> dict[str, object]:
        return {"filters": self.filters, "feature-maps": self.feature_maps,
                "gradcam": self.gradcam, "activation-max": self.activation,
                "confusion": self.confusion, "errors": self.errors, "epochs": self.epochs}

    def busy(self) -> bool:
        return any(p.answers.busy() for p in self.saved)


def _class_names(run_dir) -> list[str]:
    try:
        return RunDir.open(Path(run_dir)).read_json("dataset.json", {}).get("class_names", [])
    except Exception:          # a run folder being written: names come with the next open
        return []
