"""What the window shows, one subject at a time: the setup (configured, not trained yet), a
live run, or an opened run. The heading, the curves, every centre tab, the prediction dock
and the Runs panel's selection follow it, so nothing from another run stays on screen under
this one's name.

The subject moves to the setup when the lesson changes — another dataset or model, or their
options (a preset, a picker) — while no run trains; other settings (epochs, the learning
rate) leave the run on screen, since the heading still names it truly.
"""

from __future__ import annotations

import json


def lesson(config) -> str:
    """The part of a config that makes it another lesson: data and model, with options (the
    model's with its defaults filled in: the form shows them all, a run file names some)."""
    from cnnstudio.core.registry import ARCHITECTURES

    options = config.model.options
    arch = ARCHITECTURES.find(config.model.id)
    if arch is not None and isinstance(options, dict) and not arch.option_problems(options):
        options = arch.option_set.resolve(options)
    return json.dumps([config.dataset.id, config.dataset.options, config.model.id, options],
                      sort_keys=True, default=str)


class Subject:
    def __init__(self, window):
        self.window = window
        self.kind = "setup"                 # "setup", "live" or "run"
        self.run_dir = None
        self._lesson: str | None = None

    def live(self, run_dir) -> None:
        self.kind, self.run_dir = "live", run_dir
        self._lesson = lesson(self.window.run_config())
        self.window.runs.select(run_dir)

    def opened(self, run_dir, config) -> None:
        """A finished or reopened run (its config is in the form by now)."""
        self.kind, self.run_dir = "run", run_dir
        self._lesson = lesson(self.window.run_config())     # as the form shows it
        self.window.runs.select(run_dir)

    def config_changed(self) -> None:
        w = self.window
        if w.bridge.running:
            return
        if self.kind == "setup":
            w.plots.title.setText(self._setup_heading())    # the pickers moved: say what is set
        elif lesson(w.run_config()) != self._lesson:
            self.to_setup()

    def _setup_heading(self) -> str:
        config = self.window.run_config()
        return (f"Not trained yet: {config.model.id} on {config.dataset.id}. Press Train, or "
                "open a run from the Runs panel.")

    def to_setup(self) -> None:
        """A new lesson on screen: every panel starts over and says what to do."""
        w = self.window
        self.kind, self.run_dir, self._lesson = "setup", None, None
        w.follower.stop()
        w.plots.clear_overlays()
        w.plots.reset(self._setup_heading())
        w.prediction.set_run_dir(None)
        w.runs.table.clearSelection()
        w.tabs.renew()
