"""Presenter mode (issue 28 §1): F5 in and out with everything put back, large type by the
chosen factor, the contrast theme, the caption bar and step strip following the lesson
player, the keys a presentation clicker sends, Esc that leaves without stopping a run,
and the docks and tabs a lesson does not use hidden while it plays.

The lesson player here is a small stand-in with the LessonPlayer's signals and methods
(the contract of cnnstudio.gui.lessons.player): these tests are about the presenter."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QFileDialog

from cnnstudio.gui.presenter import plot_scale
from cnnstudio.gui.theme import CONTRAST, LIGHT, THEMES


@dataclass
class Step:
    kind: str
    fields: dict
    caption: str = ""


@dataclass
class Lesson:
    title: str
    chapter: int | None
    scale: float | None
    steps: list

    def tabs_used(self) -> set[str]:
        return {s.fields["tab"] for s in self.steps if s.kind == "tab"}

    def docks_used(self) -> set[str]:
        return {s.fields["dock"] for s in self.steps if s.kind == "dock"}


class FakePlayer(QObject):
    """What the presenter uses of a LessonPlayer: its signals, lesson, index, next/back."""

    step_started = Signal(int)
    waiting = Signal(bool)
    finished = Signal()
    failed = Signal(str)

    def __init__(self, window, lesson, fast: bool = False):
        super().__init__(window)
        self.lesson, self.fast, self.index = lesson, fast, -1
        self.calls: list[str] = []

    def start(self):
        self._show(0)

    def next(self):
        self.calls.append("next")
        self._show(min(self.index + 1, len(self.lesson.steps) - 1))

    def back(self):
        self.calls.append("back")
        self._show(max(self.index - 1, 0))

    def stop(self):
        self.calls.append("stop")

    def _show(self, index):
        self.index = index
        self.step_started.emit(index)


CAPTIONS = ["LeNet-5: two convolutions, two subsamplings, three dense layers.",
            "The training panel: epochs, batch size, learning rate.",
            "Watch the loss fall: each dot is one batch of digits.",
            ""]


def lesson(scale=None) -> Lesson:
    return Lesson("Chapter 4: LeNet-5 learns to read digits", 4, scale, [
        Step("preset", {"preset": "lenet5-mnist"}, CAPTIONS[0]),
        Step("dock", {"dock": "training"}, CAPTIONS[1]),
        Step("tab", {"tab": "Training curves"}, CAPTIONS[2]),
        Step("wait", {"click": True}, CAPTIONS[3])])


def key(qtbot, window, k):
    qtbot.keyClick(window, k)


@pytest.mark.slow
def test_f5_enters_and_leaves_restoring_geometry_docks_and_theme(studio, qtbot):
    app = QApplication.instance()
    # Smaller than the offscreen screen (800×800): restoreGeometry fits a window to its screen.
    studio.setGeometry(20, 30, 700, 520)
    geometry = studio.geometry()
    docks = {k for k, d in studio.docks.items() if d.isVisible()}
    font = app.font().pointSizeF()
    assert studio.palette().window().color() == QColor(LIGHT.window)
    with qtbot.waitSignal(studio.presenter.toggled) as entered:
        key(qtbot, studio, Qt.Key_F5)
    assert entered.args == [True] and studio.presenter.active
    assert studio.isFullScreen() and studio.presenter_action.isChecked()
    assert studio.palette().window().color() == QColor("#000000")
    assert studio.palette().windowText().color() == QColor("#ffffff")
    assert studio.palette().highlight().color() == QColor(CONTRAST.accent)
    assert studio.settings.value("theme") == "light"        # the user's theme stays saved
    assert not studio.presenter.bar.isVisible()              # no lesson: no caption bar
    assert {k for k, d in studio.docks.items() if d.isVisible()} == docks   # none hidden
    with qtbot.waitSignal(studio.presenter.toggled) as left:
        key(qtbot, studio, Qt.Key_F5)
    assert left.args == [False] and not studio.presenter.active
    assert not studio.isFullScreen() and not studio.presenter_action.isChecked()
    assert studio.geometry() == geometry
    assert {k for k, d in studio.docks.items() if d.isVisible()} == docks
    assert studio.palette().window().color() == QColor(LIGHT.window)
    assert app.font().pointSizeF() == font
    assert all(d.titleBarWidget() is None for d in studio.docks.values())


@pytest.mark.slow
def test_type_and_plot_lines_scale_by_the_chosen_factor(studio, qtbot):
    app = QApplication.instance()
    base = app.font().pointSizeF()
    studio.presenter_scale_actions[2.0].trigger()          # View → Presenter text size ▸ 2×
    assert studio.presenter.scale == 2.0
    assert float(studio.settings.value("presenter/scale")) == 2.0
    label = studio.training.findChildren(type(studio.message))[0]
    plot = studio.plots.plots[0]
    smooth = next(c for k, c in studio.plots.curves.items() if k.startswith("smooth_"))
    assert smooth.opts["pen"].widthF() == 2 * LIGHT.line_scale
    studio.presenter.enter()
    assert app.font().pointSizeF() == base * 2
    assert label.font().pointSizeF() == base * 2
    assert plot.getAxis("left").style["tickFont"].pointSizeF() == base * 2
    assert plot.getAxis("bottom").label.font().pointSizeF() == base * 2
    assert plot.titleLabel.opts["size"] == "22.0pt"                 # pyqtgraph's 11pt × 2
    assert plot.legend.opts["labelTextSize"] == "16.0pt"            # the panel's 8pt × 2
    assert smooth.opts["pen"].widthF() == 2 * CONTRAST.line_scale * 2   # thick, then × 2
    # A second pass (a tab built since) scales nothing twice.
    plot_scale.apply(studio, 2.0, app.font())
    assert smooth.opts["pen"].widthF() == 2 * CONTRAST.line_scale * 2
    studio.presenter_scale_actions[1.5].trigger()          # changed while presenting: now
    assert app.font().pointSizeF() == base * 1.5
    assert smooth.opts["pen"].widthF() == 2 * CONTRAST.line_scale * 1.5
    studio.presenter.leave()
    assert app.font().pointSizeF() == base and label.font().pointSizeF() == base
    assert plot.getAxis("left").style["tickFont"] is None
    assert plot.titleLabel.opts["size"] == "11pt"
    assert smooth.opts["pen"].widthF() == 2 * LIGHT.line_scale
    studio.presenter.enter(FakePlayer(studio, lesson(scale=1.25)))   # a lesson's own scale
    assert app.font().pointSizeF() == base * 1.25
    studio.presenter.leave()


@pytest.mark.slow
def test_caption_bar_and_strip_follow_the_player_and_the_keys_drive_it(studio, qtbot):
    player = FakePlayer(studio, lesson())
    studio.lesson_player = player
    key(qtbot, studio, Qt.Key_F5)                     # F5 takes the window's playing lesson
    bar = studio.presenter.bar
    assert studio.presenter.player is player and bar.isVisible()
    player.start()
    assert bar.caption.text() == CAPTIONS[0]
    assert bar.strip.count == 4 and bar.strip.current == 0 and bar.counter.text() == "1 / 4"
    for k, index in ((Qt.Key_Right, 1), (Qt.Key_PageDown, 2), (Qt.Key_Space, 3),
                     (Qt.Key_Left, 2), (Qt.Key_PageUp, 1)):
        key(qtbot, studio, k)
        assert player.index == index and bar.strip.current == index
    assert player.calls == ["next", "next", "next", "back", "back"]
    assert bar.caption.text() == CAPTIONS[1] and bar.counter.text() == "2 / 4"
    player.next()
    player.next()                   # a step without a caption keeps the one before it
    assert bar.caption.text() == CAPTIONS[2] and bar.strip.current == 3
    player.waiting.emit(True)
    assert bar.hint.text() == "→  next"
    # The strip: the lit segment is the accent; a click on the one before goes back.
    studio.resize(1366, 768)
    qtbot.waitUntil(lambda: bar.strip.width() > 400)
    image = bar.strip.grab().toImage()
    centre = bar.strip.segment_rect(3).center().toPoint()
    assert image.pixelColor(centre) == QColor(CONTRAST.accent)
    assert image.pixelColor(bar.strip.segment_rect(0).center().toPoint()) != \
        QColor(CONTRAST.accent)
    qtbot.mouseClick(bar.strip, Qt.LeftButton, pos=bar.strip.segment_rect(2).center().toPoint())
    assert player.index == 2 and player.calls[-1] == "back"
    player.failed.emit("chapter4.json step 3 (train): the run failed")
    assert bar.caption.text() == "⚠ chapter4.json step 3 (train): the run failed"
    studio.presenter.leave()
    assert not bar.isVisible()
    key(qtbot, studio, Qt.Key_Right)            # not presenting: the arrows are not the lesson's
    assert player.index == 2


@pytest.mark.slow
def test_esc_leaves_presenter_mode_and_does_not_stop_a_run(studio, qtbot):
    stops = []
    studio.stop_action.triggered.connect(lambda: stops.append(1))
    studio.presenter.enter(FakePlayer(studio, lesson()))
    key(qtbot, studio, Qt.Key_Escape)
    assert not studio.presenter.active and stops == []
    key(qtbot, studio, Qt.Key_Escape)                  # after leaving, Esc is Stop again
    assert stops == [1]


@pytest.mark.slow
def test_docks_and_tabs_the_lesson_does_not_use_are_hidden_then_restored(studio, qtbot):
    tabs = studio.tabs
    assert tabs.count() > 1, tabs.tab_titles()           # the classifier's insight tabs
    tabs.setCurrentIndex(0)
    docks = {k for k, d in studio.docks.items() if d.isVisible()}
    assert {"dataset", "training", "prediction"} <= docks
    studio.presenter.enter(FakePlayer(studio, lesson()))
    assert {k for k, d in studio.docks.items() if d.isVisible()} == {"training"}
    shown = [tabs.tabText(i) for i in range(tabs.count()) if tabs.isTabVisible(i)]
    assert shown == ["Training curves"]
    studio.presenter.leave()
    assert {k for k, d in studio.docks.items() if d.isVisible()} == docks
    assert all(tabs.isTabVisible(i) for i in range(tabs.count()))


@pytest.mark.slow
def test_closing_while_presenting_saves_the_user_layout(studio, qtbot):
    studio.resize(720, 560)
    studio.presenter.enter(FakePlayer(studio, lesson()))
    studio.close()
    assert not studio.presenter.active
    assert studio.settings.value("theme") == "light"
    restored = type(studio)(runs_root=studio.runs_root, settings=studio.settings)
    qtbot.addWidget(restored)
    assert restored.size().width() == 720
    assert restored.docks["dataset"].isVisibleTo(restored)


@pytest.mark.slow
def test_contrast_theme_lessons_menu_and_recording_entries(studio, qtbot, tmp_path,
                                                            monkeypatch):
    assert THEMES["contrast"] is CONTRAST                   # View → Contrast theme, also alone
    studio.theme_actions["contrast"].trigger()
    assert studio.palette().window().color() == QColor("#000000")
    assert studio.settings.value("theme") == "contrast"
    smooth = next(c for k, c in studio.plots.curves.items() if k.startswith("smooth_"))
    assert smooth.opts["pen"].widthF() == 2 * CONTRAST.line_scale       # thick lines
    studio.theme_actions["light"].trigger()
    file_menu = studio.menuBar().actions()[0].menu()
    lessons = next(a.menu() for a in file_menu.actions() if a.text() == "Lessons")
    titles = [a.text() for a in lessons.actions()]
    assert titles[-2:] == ["Open lesson file…", "Add step to lesson…"]
    path = tmp_path / "lesson.gif"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    studio.record_action.trigger()
    assert studio.recorder is not None and studio.stop_record_action.isEnabled()
    qtbot.waitUntil(lambda: studio.recorder.frames >= 2, timeout=5000)
    studio.stop_record_action.trigger()
    assert studio.message.text().startswith("Recorded ") and str(path) in studio.message.text()
    assert path.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    assert studio.record_action.isEnabled() and not studio.stop_record_action.isEnabled()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "lesson.avi"), ""))
    studio.record_action.trigger()
    assert studio.message.text().startswith("Cannot record: ") and studio.recorder is None


@pytest.mark.slow
def test_a_presenter_screenshot_reads_from_the_back_of_the_room(studio, qtbot, tmp_path):
    player = FakePlayer(studio, lesson())
    studio.presenter.enter(player)
    player.start()
    player.next()
    studio.resize(1366, 768)
    qtbot.waitUntil(lambda: studio.width() == 1366)
    shot = studio.grab()
    assert shot.save(str(tmp_path / "presenter.png"))
    bar = studio.presenter.bar
    caption_px = bar.caption.fontMetrics().height()
    assert caption_px >= 24, caption_px               # ≥ 1/32 of the screen's height
    corner = bar.mapTo(studio, QPoint(2, bar.height() - 2))
    assert shot.toImage().pixelColor(corner) == QColor("#000000")
    studio.presenter.leave()


def slide_lesson() -> Lesson:
    return Lesson("Slides", 1, None, [
        Step("preset", {"preset": "lenet5-mnist"}, "a preset"),          # 0: no dock
        Step("dock", {"dock": "dataset"}, "the data"),                   # 1: dataset
        Step("caption", {}, "still the data"),                           # 2: dataset
        Step("dock", {"dock": "architecture"}, "the layers"),            # 3: architecture
        Step("tab", {"tab": "Training curves"}, "the curves"),           # 4: none
        Step("train", {"epochs": 1}, "training"),                        # 5: none
        Step("image", {"image": "sample:7"}, "a seven"),                 # 6: prediction
        Step("wait", {"seconds": 1}, "its answer"),                      # 7: prediction
        Step("preset", {"preset": "lenet5-mnist"}, "another")])          # 8: none


def test_a_dock_shows_only_while_its_step_or_the_one_that_raised_it_is_in_front(studio, qtbot):
    def shown():
        return {k for k, d in studio.docks.items() if d.isVisibleTo(studio)}

    assert studio.statusBar().isVisibleTo(studio)
    player = FakePlayer(studio, slide_lesson())
    studio.presenter.enter(player)
    assert not studio.statusBar().isVisibleTo(studio)        # the caption shows once, below
    player.start()
    expected = [set(), {"dataset"}, {"dataset"}, {"architecture"}, set(), set(),
                {"prediction"}, {"prediction"}, set()]
    for index, docks in enumerate(expected):
        if index:
            player.next()
        assert (index, shown()) == (index, docks)
        if docks:           # the one dock in view is wide enough to read, the centre wider
            dock = studio.docks[next(iter(docks))]
            qtbot.waitUntil(lambda dock=dock: dock.width() > 0.3 * studio.width()
                            and studio.tabs.width() > 0.5 * studio.width(), timeout=2000)
    player.back()
    player.back()                                   # back to the wait after the image
    assert shown() == {"prediction"}
    studio.presenter.leave()
    assert studio.statusBar().isVisibleTo(studio)
    assert {"dataset", "training", "prediction"} <= shown()


def test_thumbnail_captions_get_cells_wide_enough_at_presenter_scale(studio, qtbot):
    import numpy as np

    from cnnstudio.gui.widgets.mosaic import ImageGallery

    gallery = ImageGallery(side=64)
    studio.tabs.addTab(gallery, "Gallery")
    captions = ["triangle → circle\n87%", "1 → 7\n33%"]
    gallery.set_images(np.zeros((2, 8, 8, 1), np.uint8), captions)
    own = gallery.list.gridSize()
    studio.presenter.enter(FakePlayer(studio, lesson(scale=2.0)))
    studio.presenter.refresh()
    metrics = gallery.list.fontMetrics()
    grid = gallery.list.gridSize()
    assert grid.width() >= metrics.horizontalAdvance("triangle → circle") + 16 > own.width()
    assert grid.height() >= 64 + 2 * metrics.lineSpacing()
    gallery.set_images(np.zeros((1, 8, 8, 1), np.uint8), ["a much longer class → name\n9%"])
    assert gallery.list.gridSize().width() >= metrics.horizontalAdvance(
        "a much longer class → name")                    # refitted as thumbnails arrive
    studio.presenter.leave()
    assert gallery.list.gridSize() == own
