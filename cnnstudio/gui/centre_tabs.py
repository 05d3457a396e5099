"""The centre tabs: the training curves, then the panels that serve the current task.

Which panels those are is declared, not branched on: each panel registers the tasks
it serves (``cnnstudio.gui.registry``) and ``set_task`` shows exactly those, so a
GAN never shows a classifier's empty confusion tab. Panels are built on first use and
receive the run's hooks (run_started, probe_ready, open_run, …) — directly, or through
the controller of panels that work together (the classifier's insight tabs).
"""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget

from cnnstudio.core.families.profile import task_profile
from cnnstudio.gui.registry import CONTROLLERS, PANELS, call, controllers_for, panels_for
from cnnstudio.gui.widgets.vscroll import scroller


class CentreTabs(QTabWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        self.setObjectName("centre_tabs")
        # Each page sits in a scroll area: a panel larger than a laptop's screen scrolls
        # instead of making the window larger than the screen.
        self.pages: dict[int, object] = {}          # id(panel) → its scroll area
        self.addTab(self._page(window.plots), "Training curves")
        self.built: dict[str, object] = {}          # panel id → widget, built on first use
        self.controllers: dict[str, object] = {}    # controller id → object, built on first use
        self.retired: list = []                     # panels of earlier subjects (see renew)
        self.task: str | None = None
        self.currentChanged.connect(self._tab_shown)
        b = window.bridge
        b.started.connect(self.run_started)
        b.epoch.connect(self.epoch_done)
        b.probe.connect(self.probe_ready)
        b.finished.connect(self.run_finished)
        window.dataset.sample_clicked.connect(self.show_image)
        window.prediction.image_chosen.connect(self.show_image)

    # -- which tabs ----------------------------------------------------------
    def set_task(self, task: str) -> None:
        """Show the curves and the panels registered for ``task``, in registration order."""
        if task == self.task:
            return
        self.task = task
        current = self.currentWidget()
        while self.count():
            self.removeTab(0)
        # A task with nothing to train (Haar, the pretrained COCO model) has no curves: its
        # lesson opens on its own first tab instead of an empty plot.
        if task_profile(task).plots:
            self.addTab(self._page(self.window.plots), "Training curves")
        for spec in panels_for(task):
            panel = self.panel(spec.id)
            self.setTabToolTip(self.addTab(self._page(panel), spec.title), spec.tip)
        if current is not None and self.indexOf(current) >= 0:
            QTabWidget.setCurrentWidget(self, current)

    def _page(self, panel):
        if id(panel) not in self.pages:
            self.pages[id(panel)] = scroller(panel)
        return self.pages[id(panel)]

    def current_panel(self):
        """The panel on the tab in front (not its scroll area)."""
        page = QTabWidget.currentWidget(self)
        return page.widget() if page is not None else None

    def show_panel(self, panel) -> None:
        """Bring the tab holding ``panel`` to the front."""
        QTabWidget.setCurrentWidget(self, self._page(panel))

    def panel(self, panel_id: str):
        if panel_id not in self.built:
            self.built[panel_id] = PANELS.get(panel_id).factory(self.window)
        return self.built[panel_id]

    def renew(self) -> None:
        """A new subject: the panels of the last one are stopped and set aside (kept, not
        deleted: an answer may still be on its way to them), and fresh ones are built."""
        self.close_panels()
        self.retired.extend([*self.built.values(), *self.controllers.values()])
        plots = self.pages.get(id(self.window.plots))
        self.pages = {id(self.window.plots): plots} if plots is not None else {}
        self.built.clear()
        self.controllers.clear()
        task, self.task = self.task, None
        if task is not None:
            self.set_task(task)

    def controller(self, controller_id: str):
        if controller_id not in self.controllers:
            self.controllers[controller_id] = CONTROLLERS.get(controller_id).factory(self.window)
        return self.controllers[controller_id]

    def tab_titles(self) -> list[str]:
        return [self.tabText(i) for i in range(self.count())]

    def listeners(self) -> list:
        """Who gets the hooks now: the current task's controllers and its built panels that
        take hooks themselves."""
        task = self.task or ""
        return ([self.controller(s.id) for s in controllers_for(task)]
                + [self.built[s.id] for s in panels_for(task) if s.hooks and s.id in self.built])

    def _hook(self, method: str, *args) -> None:
        for listener in self.listeners():
            call(listener, method, *args)

    # -- the run's hooks -----------------------------------------------------
    def run_started(self, event) -> None:
        self._hook("run_started", event)

    def epoch_done(self, event) -> None:
        self._hook("epoch_done", event)

    def probe_ready(self, event) -> None:
        self._hook("probe_ready", event)

    def run_finished(self, event) -> None:
        self._hook("run_finished", event)
        self.open_run(event.run_dir)

    def open_run(self, path) -> None:
        """A finished or reopened run: each listener reads what it needs from the folder."""
        self._hook("open_run", path)

    def show_image(self, image, caption: str = "") -> None:
        self._hook("set_image", image, caption)

    def _tab_shown(self, *_args) -> None:
        current = self.current_panel()
        for spec in panels_for(self.task or ""):
            if spec.hooks and self.built.get(spec.id) is current:
                call(current, "shown")
        for spec in controllers_for(self.task or ""):
            call(self.controller(spec.id), "tab_shown", current)

    def panels(self) -> dict[str, object]:
        """The panels on screen now, by id (screenshots, tests)."""
        return {s.id: self.panel(s.id) for s in panels_for(self.task or "")}

    def busy(self) -> bool:
        shown = [self.widget(i).widget() for i in range(self.count())
                 if self.widget(i).widget() is not self.window.plots]
        return any(p.answers.busy() for p in shown if hasattr(p, "answers")) or any(
            p.busy() for p in shown if callable(getattr(p, "busy", None)))

    def close_panels(self) -> None:
        for controller in self.controllers.values():
            call(controller, "close_panel")
        hooked = {s.id for s in PANELS if s.hooks}
        for panel_id, panel in self.built.items():
            if panel_id in hooked:
                call(panel, "close_panel")
