"""Which panels serve which tasks: the window asks here, never ``if task == ...``. A leaf: it
imports no family (families fill it from ``gui/families/<f>/plugin.py``; the first lookup
runs ``cnnstudio.gui.families.load``, named by a string for the same reason as the core's).

A centre tab registers with the tasks it serves:

    register_panel(PanelSpec("gan-console", "GAN console", "tip…", GanConsole,
                             tasks={"gan", "ssgan"}))

``factory(window)`` builds it once; the window shows it only while the current
architecture or opened run has one of its tasks. A panel may implement any of
these (called on the GUI thread; missing ones are skipped):

    run_started(event)     a live run of its task began (RunStarted; event.run_dir)
    epoch_done(event)      EpochEnd of that live run
    probe_ready(event)     ProbeReady emitted by the task's probe hooks (payload in memory)
    run_finished(event)    RunFinished (files complete on disk)
    open_run(path)         a run folder opened from the Runs panel, or a finished run
    set_image(image, caption)   the user picked, dropped or clicked an image (uint8 HWC)
    shown()                its tab came to the front (refresh lazily here)
    close_panel()          the window closes: stop threads and timers

Panels that work together (the classifier's seven insight tabs share one inference copy
and link to each other) register a *controller* for their tasks instead: it gets the
same hooks once, plus ``tab_shown(widget)``, and its panels register with
``hooks=False`` and a factory that returns the controller's widget.

    register_controller(ControllerSpec("classifier-insight", ClassifierInsight, tasks))

A prediction view does the same for the prediction dock, keyed by the task
profile's ``prediction`` word ("classify", "reconstruct", "discriminate", …):

    register_prediction_view("reconstruct", ReconstructionView)   # factory(window)

and implements ``set_run_dir(path)``, ``predict_image(image, name)`` and may
implement ``run_started(event)``, a ``shown`` signal (an answer reached the screen) and a
``toolbar`` tuple of widgets the dock puts beside its Open / Paste buttons (predictions during training go through
``window.bridge.submit(fn, callback)``, served on the training thread).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from cnnstudio.core.registry import Registry

_LOADER = "cnnstudio.gui.families.load"


class GuiRegistry(Registry):
    """A registry whose first lookup loads the families' panels (and the core's families)."""

    def _all(self):
        importlib.import_module(_LOADER).load_gui_families()
        return super()._all()


@dataclass
class PanelSpec:
    id: str
    title: str
    tip: str
    factory: Callable            # factory(window) -> QWidget
    tasks: frozenset[str] = field(default_factory=frozenset)
    hooks: bool = True           # False: a controller delivers its hooks
    # Screenshot mode's file for this tab ("" → "<id>.png"; None: not shown while a run
    # trains, so not in the screenshots).
    screenshot: str | None = ""
    # True: that screenshot is the whole window with this tab in front (its prediction dock
    # belongs in the picture, e.g. pix2pix's drawing pad).
    screenshot_window: bool = False

    def serves(self, task: str) -> bool:
        return task in self.tasks


@dataclass
class ControllerSpec:
    id: str
    factory: Callable            # factory(window) -> an object with the hooks above
    tasks: frozenset[str] = field(default_factory=frozenset)

    def serves(self, task: str) -> bool:
        return task in self.tasks


@dataclass
class MenuAction:
    """A family's entry in a window menu ("File", …): ``slot(window)`` when chosen;
    ``setup(window)`` once when the menu is built (to follow the window's signals)."""
    id: str
    menu: str
    text: str
    slot: Callable
    tip: str = ""
    setup: Callable | None = None


PANELS: Registry[PanelSpec] = GuiRegistry("panel")
MENU_ACTIONS: Registry[MenuAction] = GuiRegistry("menu action")
CONTROLLERS: Registry[ControllerSpec] = GuiRegistry("panel controller")
PREDICTION_VIEWS: Registry[Callable] = GuiRegistry("prediction view")


def register_panel(spec: PanelSpec) -> PanelSpec:
    spec.tasks = frozenset(spec.tasks)
    return PANELS.register(spec.id, spec)


def register_controller(spec: ControllerSpec) -> ControllerSpec:
    spec.tasks = frozenset(spec.tasks)
    return CONTROLLERS.register(spec.id, spec)


def register_menu_action(action: MenuAction) -> MenuAction:
    return MENU_ACTIONS.register(action.id, action)


def register_prediction_view(kind: str, factory: Callable) -> Callable:
    return PREDICTION_VIEWS.register(kind, factory)


def panels_for(task: str) -> list[PanelSpec]:
    return [spec for spec in PANELS if spec.serves(task)]


def controllers_for(task: str) -> list[ControllerSpec]:
    return [spec for spec in CONTROLLERS if spec.serves(task)]


def call(panel, method: str, *args) -> None:
    """Call an optional hook of a panel (see the module docstring)."""
    fn = getattr(panel, method, None)
    if fn is not None:
        fn(*args)
