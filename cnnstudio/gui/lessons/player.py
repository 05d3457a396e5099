"""LessonPlayer: plays a lesson's steps in a studio window, one after another.

Each step shows its caption (``step_started``), does its action (a preset into the
pickers, a tab to the front, a run trained to its end, an image dropped into the
prediction dock, …) and then holds long enough to read the caption before the next one.
``next()`` cuts the step in front short (a run is stopped at its next batch) and goes on;
``back()`` shows the step before again without redoing its training, and waits for Next.

Fast mode (tests, a quick look): each run trains one epoch on a cut of the data where
the dataset can be cut (``core.lessons.configs.fast_config``) and is stopped after
``FAST_STEPS`` batches if that epoch is longer; nothing holds; an epoch or a sample the
short run did not produce is skipped rather than failed. The player never blocks the GUI thread: everything it
waits for is a signal or a short poll on a timer, all of which stop with it.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from cnnstudio.core.errors import StudioError
from cnnstudio.core.lessons.configs import apply_set, fast_config
from cnnstudio.core.lessons.lesson import Lesson, Step
from cnnstudio.core.lessons.schema import resolve_image
from cnnstudio.gui.lessons import window_parts

POLL_MS = 50
READY_TIMEOUT_S = 180          # a dataset to load and Keras to import on a busy 2-core machine
IMAGE_WAIT_S = 20              # an answer that does not come is not worth a stalled lesson
FAST_IMAGE_WAIT_S = 4
# Fast mode: a run is stopped after this many batches (or seconds) unless its one epoch
# (on data cut where the dataset allows it) ended first.
FAST_STEPS = 8
FAST_RUN_SECONDS = 20
CLICK_PAUSE_S = 4.0            # a click wait when nobody clicks (--exit-at-end, a recording)
# How long a caption stays before the next step: reading time, within these bounds.
DWELL_MIN_S, DWELL_MAX_S, CHARS_PER_S = 2.0, 7.0, 28.0


def dwell_seconds(caption: str) -> float:
    return min(DWELL_MAX_S, max(DWELL_MIN_S, 1.0 + len(caption) / CHARS_PER_S))


class LessonPlayer(QObject):
    step_started = Signal(int)       # index of the step now shown
    waiting = Signal(bool)           # True while a step waits for Next (click) or a run trains
    finished = Signal()
    failed = Signal(str)             # one line

    def __init__(self, window, lesson: Lesson, fast: bool = False):
        super().__init__(window)
        self.window, self.lesson, self.fast = window, lesson, fast
        self.index = -1
        # False: a click wait is a pause of CLICK_PAUSE_S (none in fast mode) — for plays
        # nobody watches (--exit-at-end, recordings).
        self.clicks = True
        # Fast mode's cut (per player: screenshots let the one epoch end, for full panels).
        self.fast_steps, self.fast_run_seconds = FAST_STEPS, FAST_RUN_SECONDS
        self.state = "idle"      # idle | acting | preparing | training | image | holding | click
        #                          | done | failed | stopped
        self.done: set[int] = set()      # steps played once: back() shows them again, no rerun
        self._token = 0                  # the step an async answer belongs to
        self._is_waiting = False
        self._own_run = False            # the window's run was started by this lesson
        self._run_failure: str | None = None
        self._cut_short = False
        self._run_started_at = 0.0
        self._answered = False           # the prediction view showed its answer
        self._model_missing = False      # the last run was cut short before its model was saved
        self._poll_check = self._poll_then = self._poll_timeout = None
        self._poll_deadline, self._poll_token = 0.0, 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._hold_over)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._poll_tick)
        bridge = window.bridge
        bridge.failed.connect(self._run_failed)
        bridge.running_changed.connect(self._running_changed)
        bridge.batches.connect(self._batches)
        window.prediction.shown.connect(self._answer_shown)
        window.closed.connect(self.stop)

    # -- the public controls ---------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self.state not in ("idle", "done", "failed", "stopped")

    def start(self) -> None:
        if self.playing:
            return
        self.window.lesson_player = self
        self.done.clear()
        self._enter(0)

    def next(self) -> None:
        """Go on: end a wait or a hold at once; a training run stops at its next batch and
        the lesson goes on when it has."""
        if self.state == "idle":
            self.start()
        elif self.state in ("click", "holding", "image", "preparing", "acting"):
            self._step_done(hold=False)
        elif self.state == "training":
            self._cut_short = True
            self.window.stop_training()
        elif self.state in ("done", "failed") and self.index < len(self.lesson.steps) - 1:
            self.window.lesson_player = self
            self._enter(self.index + 1)

    def go_to(self, index: int) -> None:
        """Jump to step ``index``: one played already is shown again (as by Back), one
        ahead is played."""
        if not 0 <= index < len(self.lesson.steps) or self.state in ("idle", "stopped"):
            return
        self._cancel()
        self.window.lesson_player = self
        self._enter(index, review=index <= self.index)

    def back(self) -> None:
        """Show the step before again (its training not redone) and wait for Next."""
        if self.state in ("idle", "stopped"):
            return
        self._cancel()
        self.window.lesson_player = self
        self._enter(max(0, self.index - 1), review=True)

    def stop(self) -> None:
        """Leave the lesson: timers stopped, the lesson's own run stopped at its next batch."""
        if self.state == "stopped":
            return
        self._cancel()
        self.state = "stopped"
        self._release()

    # -- playing a step ---------------------------------------------------------------------
    def _enter(self, index: int, review: bool = False) -> None:
        self._token += 1
        self.index = index
        step = self.lesson.steps[index]
        self.state = "acting"
        self._set_waiting(False)
        # The caption is shown by whoever follows step_started (the lesson bar, or the
        # presenter's caption bar) — not again in the status line.
        self.step_started.emit(index)
        review = review or index in self.done
        try:
            getattr(self, f"_do_{step.kind}")(step, review)
        except StudioError as exc:
            self._fail(str(exc))
        except Exception as exc:     # a bug must end the lesson with its line, not hang it
            self._fail(f"{type(exc).__name__}: {exc}")

    def _step_done(self, hold: bool = True) -> None:
        if not self.playing:
            return
        self._cancel_waits()
        self._set_waiting(False)
        self.done.add(self.index)
        step = self.lesson.steps[self.index]
        seconds = 0.0 if (self.fast or not hold) else dwell_seconds(step.caption)
        # Through the event loop even when there is nothing to hold: the window paints the
        # step, and a long lesson is not played by recursion.
        self.state = "holding"
        self._timer.start(int(seconds * 1000))

    def _hold_over(self) -> None:
        if self.state == "holding":
            self._advance()

    def _advance(self) -> None:
        if self.index + 1 < len(self.lesson.steps):
            self._enter(self.index + 1)
            return
        self.state = "done"
        self._set_waiting(False)
        self._release()
        self.finished.emit()

    def _wait_for_click(self) -> None:
        self.state = "click"
        self._set_waiting(True)

    # -- the step kinds (each ends in _step_done, now or when its wait is over) ---------------
    def _do_preset(self, step: Step, review: bool) -> None:
        from cnnstudio.core.presets import find_preset

        self._idle_window()
        config = apply_set(find_preset(step.fields["preset"]).config(), step.fields)
        self.window.set_run_config(config)
        self._after_view(review)

    def _do_set(self, step: Step, review: bool) -> None:
        self._idle_window()
        self.window.set_run_config(apply_set(self.window.run_config(), step.fields))
        self._after_view(review)

    def _do_tab(self, step: Step, review: bool) -> None:
        self.window.tabs.setCurrentIndex(window_parts.find_tab(self.window, step.fields["tab"]))
        self._after_view(review)

    def _do_dock(self, step: Step, review: bool) -> None:
        dock = self.window.docks[step.fields["dock"]]
        dock.show()
        dock.raise_()
        self._after_view(review)

    def _do_caption(self, step: Step, review: bool) -> None:
        self._after_view(review)

    def _do_wait(self, step: Step, review: bool) -> None:
        if review:
            self._after_view(review)
        elif step.fields.get("click") and self.clicks:
            self._wait_for_click()
        else:
            seconds = step.fields.get("seconds", CLICK_PAUSE_S)
            self.state = "holding"
            self._timer.start(0 if self.fast else int(seconds * 1000))

    def _do_epoch(self, step: Step, review: bool) -> None:
        wanted = step.fields["epoch"]
        control = window_parts.epoch_control(self.window)
        if control is None:
            raise StudioError(f"no epoch slider on the tab in front "
                              f"('{self.window.tabs.tabText(self.window.tabs.currentIndex())}')")
        stored = control.epochs()
        if wanted not in stored:
            if not self.fast:
                raise StudioError(f"no epoch {wanted} stored for this run; stored: "
                                  f"{', '.join(map(str, stored)) or 'none'}")
            if not stored:       # fast mode: the run may have been cut before its epoch ended
                self._after_view(review)
                return
            wanted = max(e for e in stored if e <= wanted) if min(stored) <= wanted else stored[0]
        control.set_epoch(wanted)
        self._after_view(review)

    def _do_image(self, step: Step, review: bool) -> None:
        from cnnstudio.core.imaging import read_image

        base = self.lesson.path.resolve().parent if self.lesson.path else None
        kind, what = resolve_image(step.fields["image"], base)
        if kind == "sample":
            try:
                image, caption = window_parts.sample_of_class(self.window, what)
            except StudioError:
                thumbs = self.window.dataset.thumbnails()
                if not self.fast or not thumbs:
                    raise
                # Fast mode cut the data: the class may be missing from the cut.
                image, caption = thumbs[0].image, thumbs[0].caption
            name = f"a sample of class {caption}"
        else:
            image, name = read_image(what), what.name
        self.window.docks["prediction"].show()
        self.window.docks["prediction"].raise_()
        prediction = self.window.prediction
        self._answered = False
        prediction.predict_image(image, name)
        if review:
            self._after_view(review)
            return
        self.state = "image"
        view = prediction.view
        if prediction.error.isVisible() or view is None or not (
                hasattr(view, "shown") or hasattr(view, "answers")) or self._model_missing:
            # Answered at once, an answer we cannot wait on, or none to come (fast mode
            # stopped the run before it saved a model).
            self._step_done()
            return
        seconds = FAST_IMAGE_WAIT_S if self.fast else IMAGE_WAIT_S
        self._poll_for(lambda: self._answered or prediction.error.isVisible() or (
            not hasattr(view, "shown") and not view.answers.busy()), self._step_done, seconds,
            on_timeout=self._step_done)

    def _answer_shown(self) -> None:
        self._answered = True

    def _do_train(self, step: Step, review: bool) -> None:
        if review:
            self._after_view(review)
            return
        config = self.window.run_config()
        config.training.epochs = step.fields["epochs"]
        if self.fast:
            config = fast_config(config)
        self._idle_window()
        self.window.set_run_config(config)
        self.state = "preparing"
        self._set_waiting(True)
        self._poll_for(self._ready_to_train, self._start_run, READY_TIMEOUT_S,
                       on_timeout=lambda: self._fail("the dataset or the model was not ready "
                                                     f"after {READY_TIMEOUT_S} s"))

    def _ready_to_train(self) -> bool:
        w = self.window
        if w.bridge.running or not w.background.idle or not w.tf_ready:
            return False
        # Loaded, or failed (then start_training says why).
        return w.dataset.dataset is not None or w.dataset.error.isVisible()

    def _start_run(self) -> None:
        w = self.window
        problems = w.problems()
        if problems:
            self._fail("cannot train: " + problems[0])
            return
        self._run_failure = None
        self._cut_short = False
        self._run_started_at = time.monotonic()
        self.state = "training"
        w.start_training()
        if not w.bridge.running:
            self._fail("the run did not start: " + w.message.text())
            return
        self._own_run = True

    def _batches(self, group) -> None:
        if not self.fast or self.state != "training" or self._cut_short or not group:
            return
        if (group[-1].step >= self.fast_steps
                or time.monotonic() - self._run_started_at > self.fast_run_seconds):
            self._cut_short = True
            self.window.stop_training()

    def _run_failed(self, reason: str) -> None:
        if self.state == "training":
            self._run_failure = reason.splitlines()[0] if reason else "the run failed"

    def _running_changed(self, running: bool) -> None:
        if running or not self._own_run:
            return
        self._own_run = False
        if self.state != "training":
            return
        if self._run_failure and not self._cut_short:
            self._fail("the run failed: " + self._run_failure)
            return
        self._model_missing = self.fast and self._cut_short
        self._step_done(hold=not self._cut_short)

    # -- helpers ------------------------------------------------------------------------------
    def _after_view(self, review: bool) -> None:
        if review:                   # shown again after Back: the presenter goes on with Next
            self.done.add(self.index)
            self._wait_for_click()
        else:
            self._step_done()

    def _idle_window(self) -> None:
        if self.window.bridge.running:
            raise StudioError("a run is training in this window; stop it before the lesson "
                              "changes the setup")

    def _poll_for(self, check, then, seconds: float, on_timeout) -> None:
        self._poll_check, self._poll_then = check, then
        self._poll_timeout = on_timeout
        self._poll_deadline = time.monotonic() + seconds
        self._poll_token = self._token
        self._poll.start()

    def _poll_tick(self) -> None:
        if self._poll_token != self._token or not self.playing:
            self._poll.stop()
            return
        try:
            ready = self._poll_check()
        except Exception as exc:        # a panel's bug: the lesson says so and ends
            self._poll.stop()
            self._fail(f"{type(exc).__name__}: {exc}")
            return
        if ready:
            self._poll.stop()
            self._guarded(self._poll_then)
        elif time.monotonic() > self._poll_deadline:
            self._poll.stop()
            self._guarded(self._poll_timeout)

    def _guarded(self, fn) -> None:
        try:
            fn()
        except StudioError as exc:
            self._fail(str(exc))
        except Exception as exc:
            self._fail(f"{type(exc).__name__}: {exc}")

    def _set_waiting(self, flag: bool) -> None:
        if flag != self._is_waiting:
            self._is_waiting = flag
            self.waiting.emit(flag)

    def _cancel_waits(self) -> None:
        self._timer.stop()
        self._poll.stop()

    def _cancel(self) -> None:
        """End what the step in front waits for; the lesson's own run stops."""
        self._cancel_waits()
        if self._own_run and self.window.bridge.running:
            self.window.stop_training()
        self._set_waiting(False)

    def _fail(self, reason: str) -> None:
        if self.state in ("failed", "stopped"):
            return
        step = self.lesson.steps[self.index] if 0 <= self.index < len(self.lesson.steps) else None
        where = f"step {self.index + 1} ({step.kind})" if step else "start"
        name = self.lesson.path.name if self.lesson.path else self.lesson.title
        line = f"{name} {where}: {reason}".replace("\n", " ")
        self._cancel()
        self.state = "failed"
        self.window.status("Lesson stopped: " + line)
        self._release()
        self.failed.emit(line)

    def _release(self) -> None:
        if getattr(self.window, "lesson_player", None) is self:
            self.window.lesson_player = None
