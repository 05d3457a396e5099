"""A preset survives the window: loaded into the form and read back, it is the preset, value
for value; and every architecture's form offers exactly what its option specs allow."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from cnnstudio.core.registry import ARCHITECTURES, DATASETS
from cnnstudio.gui.presets import list_presets
from cnnstudio.gui.widgets.options_form import OptionsForm

PRESETS = list_presets()


@pytest.fixture(autouse=True)
def _no_dangling_threads_or_timers():
    """The shared window's timers (a debounced preview) may run on between these tests: the
    window is closed, and its threads joined, once at the module's end instead."""
    yield


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    """One window for every preset: the form is what is checked, and a window each (its
    default model's summary built, then the preset's dataset loaded) cost ~3 s a preset."""
    from cnnstudio.gui.main_window import MainWindow

    root = tmp_path_factory.mktemp("presets")
    (root / "runs").mkdir()
    studio = MainWindow(runs_root=root / "runs",
                        settings=QSettings(str(root / "settings.ini"), QSettings.IniFormat))
    studio.confirm_close = lambda: True
    studio.show()
    deadline = time.monotonic() + 240      # importing TensorFlow on a loaded machine
    while not studio.tf_ready and time.monotonic() < deadline:
        # An event loop, as qtbot.wait runs one: QTest.qWait holds the interpreter lock
        # while it waits, and the background import of TensorFlow crawled (115 s for 7).
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    assert studio.tf_ready
    yield studio
    studio.close()
    studio.deleteLater()


def test_there_are_presets_to_check():
    assert len(PRESETS) >= 28


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS, ids=[p.key for p in PRESETS])
def test_a_preset_loaded_into_the_window_reads_back_unchanged(window, preset):
    studio = window
    config = preset.config()
    studio.set_run_config(config)
    back = studio.run_config()
    assert back.dataset.id == config.dataset.id
    if config.dataset.id == "folder":           # a folder lesson: the path is the user's
        config.dataset.options.pop("path", None)
        back.dataset.options.pop("path", None)
    assert back.dataset.options == config.dataset.options
    arch = ARCHITECTURES.get(config.model.id)
    assert back.model.id == config.model.id
    # The form shows every option, so its values are the preset's over the defaults.
    assert back.model.options == arch.options(config.model.options)
    assert back.training == config.training     # (its name is the preset's title, not a setting)
    assert back.problems() == []


@pytest.mark.slow
def test_the_dcgan_preset_trains_with_its_r1_from_the_window(studio):
    preset = next(p for p in PRESETS if p.key == "chapter8-dcgan-mnist")
    studio.set_run_config(preset.config())
    assert preset.config().model.options["r1"] == 2.0
    assert studio.run_config().model.options["r1"] == 2.0
    assert studio.architecture.options.editors["r1"].maximum() == 1000.0


ALL_SPECS = [(arch.id, spec) for arch in ARCHITECTURES for spec in arch.specs] + \
    [(source.id, spec) for source in DATASETS for spec in source.specs]


@pytest.mark.parametrize("owner, spec", ALL_SPECS, ids=[f"{o}.{s.name}" for o, s in ALL_SPECS])
def test_each_editor_offers_what_its_spec_allows(qtbot, owner, spec):
    form = OptionsForm()
    qtbot.addWidget(form)
    form.build((spec,))
    if spec.hidden:
        assert form.editors == {}
        return
    editor = form.editors[spec.name]
    optional = spec.default is None
    if spec.kind in ("int", "float"):
        assert isinstance(editor, QSpinBox if spec.kind == "int" else QDoubleSpinBox)
        step = spec.step or 1
        assert editor.maximum() == pytest.approx(spec.high)
        assert editor.minimum() == pytest.approx(spec.low - step if optional else spec.low)
        assert editor.singleStep() == pytest.approx(step)
        editor.setValue(spec.high)
        assert form.values()[spec.name] == pytest.approx(spec.high)
        assert spec.problem(form.values()[spec.name]) is None
    elif spec.kind == "text":
        assert isinstance(editor, QLineEdit)
    else:
        assert isinstance(editor, QComboBox)
        offered = [editor.itemText(i) for i in range(editor.count())]
        expected = ["true", "false"] if spec.kind == "bool" else [str(c) for c in spec.choices]
        assert offered == (["default"] if optional else []) + expected
        editor.setCurrentIndex(editor.count() - 1)
        value = form.values()[spec.name]
        assert spec.problem(value) is None      # the model accepts what the form offers
    if optional:
        form.set_values({})
        form.build((spec,))
        assert form.values() == {}              # unset: the loader's default applies
    assert spec.help, f"{owner}.{spec.name} has no help text"
