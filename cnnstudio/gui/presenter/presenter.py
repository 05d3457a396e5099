"""Presenter mode: the studio in front of a class.

``enter`` makes the window full screen with large type (the application font and every
plot's lines and text × ``scale``), the high-contrast theme, and — when a lesson plays —
a caption bar with a strip of its steps, while the docks and centre tabs the lesson does
not use are hidden. Right / Page Down / Space go to the next step, Left / Page Up back
(a presentation clicker sends Page Up/Down), Esc leaves. ``leave`` puts everything back
as it was: geometry, window state, docks, tabs, font, theme, and Esc's "Stop" in the Run
menu (while presenting, Esc leaves presenter mode and never stops a run).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel

from cnnstudio.gui.presenter import plot_scale, slide_layout
from cnnstudio.gui.presenter.caption_bar import CaptionBar
from cnnstudio.gui.theme import THEMES

SCALES = (1.5, 1.75, 2.0)
DEFAULT_SCALE = 1.75
SETTING = "presenter/scale"
THEME = "contrast"
CURVES_TAB = "training curves"       # the plots' tab: used by every lesson that trains
HEADING_PX = 13                      # theme.STYLE's headings are in pixels: scaled here
DOCK_TITLE_STYLE = "font-weight: bold; padding: 4px 8px;"


@dataclass
class _Before:
    """What ``enter`` changed, for ``leave``."""
    geometry: QByteArray
    state: QByteArray
    window_state: Qt.WindowStates
    font: QFont
    theme: str
    stop_keys: list
    status_bar: bool


def read_scale(settings) -> float:
    try:
        value = float(settings.value(SETTING, DEFAULT_SCALE))
    except (TypeError, ValueError):
        return DEFAULT_SCALE
    return min(SCALES, key=lambda s: abs(s - value))


class Presenter(QObject):
    toggled = Signal(bool)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.active = False
        self.player = None
        self._scale = read_scale(window.settings)
        self._before: _Before | None = None
        self._hidden_tabs: list = []           # tab pages hidden while presenting
        self._dock_titles: dict = {}           # dock → the large title label it wears
        self.bar = CaptionBar()
        self.next_action = self._key_action("Next step", (Qt.Key_Right, Qt.Key_PageDown,
                                                          Qt.Key_Space), self.next)
        self.back_action = self._key_action("Previous step", (Qt.Key_Left, Qt.Key_PageUp),
                                            self.back)
        self.leave_action = self._key_action("Leave presenter mode", (Qt.Key_Escape,), self.leave)
        self.bar.strip.clicked.connect(self.go_to)
        # Panels built, tabs switched, runs started while presenting get the large type too.
        window.tabs.currentChanged.connect(self._refresh_later)
        window.bridge.started.connect(self._refresh_later)
        window.bridge.finished.connect(self._refresh_later)
        window.installEventFilter(self)

    def _key_action(self, text: str, keys, slot) -> QAction:
        action = QAction(text, self.window)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.WindowShortcut)
        action.setEnabled(False)                 # only while presenting
        action.triggered.connect(slot)
        self.window.addAction(action)
        return action

    # -- scale -----------------------------------------------------------------
    @property
    def scale(self) -> float:
        return self._scale

    @scale.setter
    def scale(self, value: float) -> None:
        value = float(value)
        if not SCALES[0] <= value <= SCALES[-1]:
            raise ValueError(f"presenter scale must be from {SCALES[0]} to {SCALES[-1]}, "
                             f"got {value}")
        self._scale = value
        self.window.settings.setValue(SETTING, value)
        if self.active:
            self._apply_type()

    def effective_scale(self) -> float:
        """The lesson's own scale when it names one (its author sized its captions for it),
        else the one chosen in View → Presenter text size."""
        lesson_scale = getattr(getattr(self.player, "lesson", None), "scale", None)
        return float(lesson_scale) if lesson_scale else self._scale

    # -- enter / leave ---------------------------------------------------------
    def toggle(self) -> None:
        if self.active:
            self.leave()
        else:
            self.enter()

    def enter(self, player=None) -> None:
        """Present; ``player`` (a LessonPlayer) or the window's playing one gets the caption
        bar. Entering while presenting switches to ``player``."""
        w = self.window
        if player is None:
            player = getattr(w, "lesson_player", None)
        if self.active:
            self._attach(player)
            self._apply_type()            # the new lesson may name its own scale
            return
        stop = getattr(w, "stop_action", None)
        self._before = _Before(w.saveGeometry(), w.saveState(), w.windowState(),
                               QFont(QApplication.instance().font()),
                               str(w.settings.value("theme", "light")),
                               stop.shortcuts() if stop is not None else [],
                               w.statusBar().isVisibleTo(w))
        self.active = True
        if stop is not None:
            stop.setShortcuts([])        # Esc is "leave" now; a second Esc would be ambiguous
        for action in getattr(w, "theme_actions", {}).values():
            action.setEnabled(False)     # the contrast theme stays while presenting
        for action in (self.next_action, self.back_action, self.leave_action):
            action.setEnabled(True)
        w.statusBar().hide()             # the caption bar says it all; no second line
        w.showFullScreen()
        self._title_docks()
        self._attach(player)
        self._apply_type()
        w.setFocus()                     # arrows to the presenter, not to a spin box
        self.toggled.emit(True)

    def leave(self) -> None:
        if not self.active:
            return
        w, before = self.window, self._before
        self.active = False
        self._detach()
        plot_scale.restore(w)
        slide_layout.restore_galleries(w)
        self._unscale_headings()
        QApplication.instance().setFont(before.font)
        w.set_theme(before.theme if before.theme in THEMES else "light")   # re-styles the fonts
        stop = getattr(w, "stop_action", None)
        if stop is not None:
            stop.setShortcuts(before.stop_keys)
        for action in getattr(w, "theme_actions", {}).values():
            action.setEnabled(True)
        for action in (self.next_action, self.back_action, self.leave_action):
            action.setEnabled(False)
        self._show_tabs()
        self._untitle_docks()
        w.removeToolBar(self.bar)
        w.setWindowState(before.window_state)
        w.restoreGeometry(before.geometry)
        w.restoreState(before.state)           # the docks as they were, sizes too
        w.statusBar().setVisible(before.status_bar)
        self._before = None
        self.toggled.emit(False)

    # -- the lesson --------------------------------------------------------------
    def next(self) -> None:
        if self.player is not None:
            self.player.next()

    def back(self) -> None:
        if self.player is not None:
            self.player.back()

    def go_to(self, index: int) -> None:
        """A click on the strip: the step before or after by back/next; further ones
        through the player's ``go_to`` when it has one."""
        player = self.player
        if player is None or index == player.index:
            return
        if index == player.index + 1:
            player.next()
        elif index == player.index - 1:
            player.back()
        elif callable(getattr(player, "go_to", None)):
            player.go_to(index)
        else:
            self.window.status("Jump one step at a time: → next, ← back.")

    def _attach(self, player) -> None:
        self._detach()
        self.player = player
        w = self.window
        if player is None:
            w.removeToolBar(self.bar)
            return
        player.step_started.connect(self._step_started)
        player.waiting.connect(self._waiting)
        player.finished.connect(self._finished)
        player.failed.connect(self._failed)
        steps = player.lesson.steps
        self.bar.set_steps([s.caption for s in steps])
        w.addToolBar(Qt.BottomToolBarArea, self.bar)
        self.bar.show()
        self._hide_docks()
        self._hide_tabs()
        if 0 <= player.index < len(steps):
            self._step_started(player.index)
        else:
            self.bar.show_step(-1, player.lesson.title)

    def _detach(self) -> None:
        player, self.player = self.player, None
        if player is None:
            return
        for signal, slot in ((player.step_started, self._step_started),
                             (player.waiting, self._waiting),
                             (player.finished, self._finished),
                             (player.failed, self._failed)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):    # already gone with the player
                pass

    def caption_for(self, index: int) -> str:
        """The step's caption; a step without one keeps the last caption before it (the
        explanation stays up while the preset loads), the lesson's title at the start."""
        steps = self.player.lesson.steps
        for step in reversed(steps[:index + 1]):
            if step.caption:
                return step.caption
        return self.player.lesson.title

    def _step_started(self, index: int) -> None:
        if self.player is None:
            return
        self.bar.show_step(index, self.caption_for(index))
        self.bar.set_hint("")
        self._show_step_docks(index)
        self._refresh_later()

    def _waiting(self, waiting: bool) -> None:
        player = self.player
        if player is None or not 0 <= player.index < len(player.lesson.steps):
            return
        kind = player.lesson.steps[player.index].kind
        hint = ("training…" if kind == "train" else "→  next") if waiting else ""
        self.bar.set_hint(hint)

    def _finished(self) -> None:
        self.bar.set_hint("the end  ·  Esc leaves")

    def _failed(self, reason: str) -> None:
        self.bar.show_error(reason, THEMES[THEME].error)
        self.bar.set_hint("Esc leaves")

    # -- what shows ----------------------------------------------------------------
    def _show_step_docks(self, index: int) -> None:
        """A slide: only the dock the step (or the dock / image step before it) uses
        shows, sized to read; the centre tab gets the rest (leave restores them all)."""
        if not self.active or self.player is None:
            return
        slide_layout.show_only(self.window,
                               slide_layout.docks_for_step(self.player.lesson.steps, index))
        # Once more after this turn of the event loop: the step's own work (a preset
        # rebuilding panels, the window going full screen) may have moved the splitters.
        QTimer.singleShot(0, self, self._resize_shown_docks)

    def _resize_shown_docks(self) -> None:
        if self.active and self.player is not None:     # without a lesson: the user's layout
            slide_layout.size_docks(self.window, [d for d in self.window.docks.values()
                                                  if not d.isHidden()])

    def _hide_docks(self) -> None:
        """Before the lesson's first step: hide the docks the lesson never uses (from its
        first step on, ``_show_step_docks`` decides)."""
        lesson = getattr(self.player, "lesson", None)
        if lesson is None or not self.active:
            return
        used = set(lesson.docks_used())
        for key, dock in self.window.docks.items():
            if key not in used and not dock.isHidden():
                dock.hide()

    def _hide_tabs(self) -> None:
        """Hide the centre tabs the lesson does not use; the tab in front always shows (also
        one a step or a new task brought forward since)."""
        lesson = getattr(self.player, "lesson", None)
        if lesson is None or not self.active:
            return
        tabs = self.window.tabs
        wanted = {t.lower() for t in lesson.tabs_used()}
        if any(s.kind in ("train", "epoch") for s in lesson.steps):
            wanted.add(CURVES_TAB)
        for i in range(tabs.count()):
            names = {tabs.tabText(i).lower(), self._panel_id(tabs.widget(i))}
            show = i == tabs.currentIndex() or bool(names & wanted)
            if tabs.isTabVisible(i) != show:
                tabs.setTabVisible(i, show)
            if not show and tabs.widget(i) not in self._hidden_tabs:
                self._hidden_tabs.append(tabs.widget(i))

    def _panel_id(self, page) -> str:
        tabs = self.window.tabs
        for panel_id, panel in tabs.built.items():
            if tabs.pages.get(id(panel)) is page:
                return panel_id.lower()
        return ""

    def _show_tabs(self) -> None:
        tabs = self.window.tabs
        for page in self._hidden_tabs:
            index = tabs.indexOf(page)
            if index >= 0:
                tabs.setTabVisible(index, True)
        self._hidden_tabs = []

    def _title_docks(self) -> None:
        """Qt draws a dock's own title in the platform's small title font whatever the
        application font is: while presenting, each dock wears a plain label instead."""
        for dock in self.window.docks.values():
            if dock.titleBarWidget() is None:
                label = QLabel(dock.windowTitle())
                label.setObjectName("presenterDockTitle")
                label.setStyleSheet(DOCK_TITLE_STYLE)
                dock.setTitleBarWidget(label)
                self._dock_titles[dock] = label

    def _untitle_docks(self) -> None:
        for dock, label in self._dock_titles.items():
            if dock.titleBarWidget() is label:
                dock.setTitleBarWidget(None)
            label.deleteLater()
        self._dock_titles = {}

    def _apply_type(self) -> None:
        """The application font × the scale, the contrast theme, the plots scaled."""
        w, factor = self.window, self.effective_scale()
        font = QFont(self._before.font)
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * factor)
        else:
            font.setPixelSize(round(font.pixelSize() * factor))
        app = QApplication.instance()
        app.setFont(font)
        w.set_theme(THEME)        # sets the style sheet again: the widgets take the new font
        w.settings.setValue("theme", self._before.theme)   # the user's theme stays saved
        self._scale_headings()
        self.bar.set_type(font)
        plot_scale.apply(w, factor, font)
        slide_layout.fit_galleries(w)

    def _scale_headings(self) -> None:
        """Per label, not in the application's style sheet: setting that again re-styles
        every widget of the window (most of a second)."""
        style = f"font-size: {round(HEADING_PX * self.effective_scale())}px;"
        for label in self.window.findChildren(QLabel, "heading"):
            if label.styleSheet() in ("", getattr(label, "_presenter_style", None)):
                label.setStyleSheet(style)
                label._presenter_style = style

    def _unscale_headings(self) -> None:
        for label in self.window.findChildren(QLabel, "heading"):
            if label.styleSheet() and label.styleSheet() == getattr(label, "_presenter_style",
                                                                    None):
                label.setStyleSheet("")

    def refresh(self) -> None:
        """Catch up with what changed since: new tabs hidden, new plots scaled."""
        if not self.active:
            return
        self._hide_tabs()
        self._scale_headings()
        plot_scale.apply(self.window, self.effective_scale(), QApplication.instance().font())
        slide_layout.fit_galleries(self.window)

    def _refresh_later(self, *_args) -> None:
        # After the step's own work in this turn of the event loop (a preset rebuilds tabs).
        if self.active:
            QTimer.singleShot(0, self, self.refresh)

    def eventFilter(self, obj, event):
        # Leave before the window saves its geometry and docks on close: the saved layout
        # is the user's, not the presenter's.
        if obj is self.window and event.type() == QEvent.Close and self.active:
            self.leave()
        elif obj is self.window and event.type() == QEvent.Resize and self.active:
            QTimer.singleShot(0, self, self._resize_shown_docks)   # full screen, a projector
        return False
