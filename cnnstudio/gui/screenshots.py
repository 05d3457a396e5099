"""``--screenshot-dir``: train for N epochs, then save PNGs of the window and each panel.

The run is held (paused) right after epoch N by an epoch hook on the training
thread, so the pictures show a run mid-training; a sample is classified live
first so the Prediction panel is not empty. Then the run stops (resumable) and
the window closes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from cnnstudio.gui.registry import PANELS

SETTLE_MS = 400          # let layouts and the plot redraw land before grabbing
# How long a prediction may take before the pictures are taken without it (a held run answers
# after its batch in flight and the epoch writer; a busy 2-core machine: seconds).
ANSWER_WAIT_MS = 20_000


class ScreenshotRun:
    def __init__(self, window, folder: Path, epochs: int):
        self.window, self.folder, self.epochs = window, Path(folder), epochs
        self.folder.mkdir(parents=True, exist_ok=True)
        self.exit_code = 1
        self.saved: list[Path] = []
        self._done = False
        window.epoch_hooks = [self._hold]
        window.bridge.epoch.connect(self._epoch)
        window.bridge.finished.connect(lambda _: self._shoot_soon())
        window.bridge.failed.connect(self._failed)
        window.confirm_close = lambda: True
        # A model with nothing to train (no curves: Haar cascades, the pretrained COCO
        # model) is pictured as it stands; its refused run is expected, not a failure.
        self.trains = _trains(window)
        if not self.trains:
            window.start_training = lambda: None      # the caller's start would be refused
            QTimer.singleShot(SETTLE_MS, self._shoot_soon)

    def _hold(self, model, epoch: int) -> None:       # training thread
        if epoch >= self.epochs and self.window.bridge.control is not None:
            self.window.bridge.control.pause()

    def _epoch(self, event) -> None:
        if event.epoch >= self.epochs:
            view = self.window.prediction.view
            if hasattr(view, "sketch_demo"):       # a drawing pad: draw on it, as a user would
                self.window.prediction.shown.connect(self._shoot_soon)
                view.sketch_demo()
                QTimer.singleShot(ANSWER_WAIT_MS, self._shoot_soon)
                return
            thumbs = self.window.dataset.thumbnails()
            if thumbs:
                self.window.prediction.shown.connect(self._shoot_soon)
                self.window.prediction.predict_image(thumbs[0].image, "a dataset sample")
                # If the answer never comes (run ended first), shoot anyway.
                QTimer.singleShot(ANSWER_WAIT_MS, self._shoot_soon)
            else:
                self._shoot_soon()

    def _failed(self, reason: str) -> None:
        if not self.trains:
            return
        print(f"cnnstudio: the run failed: {reason}")
        self._shoot_soon(failed=True)

    def _shoot_soon(self, failed: bool = False) -> None:
        if self._done:
            return
        self._done = True
        self._failed_run = failed
        self._waits = 0
        self._visit_tabs()
        QTimer.singleShot(SETTLE_MS, self._when_insight_ready)

    def _visit_tabs(self) -> None:
        """Bring each pictured tab forward once: a hidden tab computes nothing until shown
        (gradients are traced per model), so each starts its work here and busy() waits."""
        w = self.window
        for key, panel in w.tabs.panels().items():
            if PANELS.get(key).screenshot is not None:
                w.tabs.show_panel(panel)
                QApplication.processEvents()
        w.tabs.setCurrentIndex(0)

    def _when_insight_ready(self) -> None:
        # The insight panels ask the (paused) run's thread for their views: wait for answers.
        self._waits += 1
        try:
            busy = self.window.tabs.busy()
        except Exception as exc:      # a panel's bug must not leave the pictures untaken
            print(f"cnnstudio: a tab could not say whether it is busy: {exc!r}")
            busy = False
        # Without a run to hold, a tab's own worker may take longer (Haar counts): 40 s.
        if busy and self._waits < (40 if self.trains else 160):
            QTimer.singleShot(250, self._when_insight_ready)
            return
        QTimer.singleShot(SETTLE_MS, self._shoot)

    def _shoot(self) -> None:
        w = self.window
        w.plots.flush()
        QApplication.processEvents()
        self._save(w.grab(), "studio.png")
        self._save(w.plots.grab(), "plots.png")
        for key, dock in w.docks.items():
            dock.raise_()                  # a tabbed dock shows its contents only when raised
            QApplication.processEvents()
            self._save(dock.grab(), f"{key}.png")
        if "training" in w.docks:
            w.docks["training"].raise_()
        # Each tab of the task under the name its family registered (the classifier's live
        # insight tabs as insight-<id>.png, a family's own tabs under their panel id).
        for key, panel in w.tabs.panels().items():
            name = PANELS.get(key).screenshot
            if name is None:
                continue
            w.tabs.show_panel(panel)
            QApplication.processEvents()
            shot = w if PANELS.get(key).screenshot_window else panel
            self._save(shot.grab(), name or f"{key}.png")
        w.tabs.setCurrentIndex(0)
        thumbs = w.dataset.thumbnails()
        if thumbs:
            dialog = w.show_pixels(thumbs[0].image, thumbs[0].caption)
            QApplication.processEvents()
            self._save(dialog.grab(), "pixel-view.png")
            dialog.close()
        for path in self.saved:
            print(f"saved {path}")
        self.exit_code = 1 if self._failed_run else 0
        w.close()            # stops the held run at its next batch; it stays resumable

    def _save(self, pixmap, name: str) -> None:
        path = self.folder / name
        pixmap.save(str(path))
        self.saved.append(path)


def _trains(window) -> bool:
    from cnnstudio.core.errors import StudioError
    from cnnstudio.core.families.profile import arch_profile

    try:
        return bool(arch_profile(window.architecture.model_id).plots)
    except StudioError:
        return True
