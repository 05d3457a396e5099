"""One subject on screen (issue 22): after a run of every family is opened in turn, and after
every preset is loaded in turn, every panel, the heading, the curves, the prediction dock and
the Runs selection show that subject and nothing of the one before.

The runs are folders as the engine leaves them (config, status), written without training:
what is checked is where each view takes its run from, not what a model learnt."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.gui.presets import list_presets
from cnnstudio.gui.subject import lesson

# One run of every family (its task), as a newcomer would open them from the Runs panel.
FAMILY_RUNS = (("mnist-5k", "lenet5"), ("mnist-5k", "conv-autoencoder"), ("mnist-5k", "dcgan"),
               ("mnist-5k", "ssgan"), ("mnist-translated", "ram"), ("shape-scenes", "captioner"),
               ("shapes", "maskrcnn"))


def make_run(root: Path, dataset: str, model: str) -> Path:
    config = RunConfig(DatasetConfig(dataset), ModelConfig(model), TrainConfig(epochs=2))
    folder = RunDir.create(config, path=root / f"{model}-run")
    folder.set_status("stopped", epoch=1)
    folder.close()
    return folder.path


def views_of(studio) -> dict[str, object]:
    """Every view on screen that takes a run: the centre tabs' panels and the dock's view."""
    views = dict(studio.tabs.panels())
    views["prediction dock"] = studio.prediction.view
    return views


def runs_named(views) -> dict[str, Path]:
    """The run each view says it shows (views that keep one say so in ``run_dir``)."""
    return {name: Path(view.run_dir) for name, view in views.items()
            if getattr(view, "run_dir", None) is not None}


@pytest.mark.slow
def test_each_family_run_opened_in_turn_is_all_the_window_shows(qtbot, studio, tmp_path):
    runs = [make_run(studio.runs_root, dataset, model) for dataset, model in FAMILY_RUNS]
    studio.runs.refresh()
    for run in runs:
        studio.open_run(str(run))
        qtbot.waitUntil(lambda: studio.background.idle, timeout=30_000)
        assert studio.subject.kind == "run" and studio.subject.run_dir == run
        assert run.name in studio.plots.title.text()
        assert studio.runs.selected() == str(run)
        named = runs_named(views_of(studio))
        assert named.get("prediction dock") == run, named
        assert all(path == run for path in named.values()), named   # nothing of the last run


def one_preset_per_family() -> list:
    """A preset for each kind of model (its task), and each dataset kind once: the views
    a preset builds depend on those, not on the preset's other numbers (all 36 took ~45 s)."""
    from cnnstudio.core.registry import ARCHITECTURES

    chosen, seen = [], set()
    for preset in list_presets():
        config = preset.config()
        keys = {("task", ARCHITECTURES.get(config.model.id).task), ("data", config.dataset.id)}
        if not keys <= seen or preset.key.startswith("quickstart"):   # (the run's own lesson)
            chosen.append(preset)
            seen |= keys
    return chosen


@pytest.mark.slow
def test_a_preset_of_each_family_loaded_after_a_run_starts_every_view_over(qtbot, studio, tmp_path):
    run = make_run(studio.runs_root, "mnist-5k", "lenet5")
    studio.runs.refresh()
    for preset in one_preset_per_family():
        studio.open_run(str(run))                    # a run on screen …
        qtbot.waitUntil(lambda: studio.background.idle, timeout=30_000)
        before = set(map(id, views_of(studio).values()))
        config = preset.config()
        studio.set_run_config(config)                # … then the preset: another lesson
        qtbot.waitUntil(lambda: studio.background.idle, timeout=30_000)
        if lesson(config) == lesson(RunDir.open(run).config()):
            # The same data and model (the quick start is this run's lesson): the run stays.
            assert studio.subject.kind == "run" and studio.subject.run_dir == run
            continue
        assert studio.subject.kind == "setup", preset.key
        title = studio.plots.title.text()
        assert title.startswith(f"Not trained yet: {config.model.id} on "), (preset.key, title)
        assert all(n == 0 for n in studio.plots.point_counts().values()), preset.key
        assert studio.runs.selected() is None
        views = views_of(studio)
        assert runs_named(views) == {}, (preset.key, runs_named(views))
        panels = {id(v) for k, v in views.items() if k != "prediction dock"}
        assert not panels & before, preset.key       # fresh panels, none of the run's
