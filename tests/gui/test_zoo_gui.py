"""The zoo's GUI: hyperparameters, augmentation with its preview, class balance, folder
lessons and the run's test evaluation, in the studio window."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cnnstudio.core import evaluation
from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.folder import class_balance
from cnnstudio.gui import menus
from cnnstudio.gui.panels.training_panel import TrainingPanel
from cnnstudio.gui.presets import find_preset
from tests.gui.conftest import configure, tiny_config

EVERYTHING_CHANGED = TrainConfig(
    epochs=7, batch_size=16, optimizer="sgd", learning_rate=0.01, seed=3, validation_split=0.2,
    device="cpu", mixed_precision=True, lr_schedule="plateau", lr_decay=0.5, lr_step_epochs=4,
    lr_patience=2, initializer="he", dropout=0.3, batch_norm=False, l1=0.0001, l2=0.0005,
    early_stopping=True, patience=7, augmentation={"flip": "horizontal", "zoom": 0.1},
    steps_per_call=8, adversarial={"eps": 0.05, "ratio": 0.25})


@pytest.fixture
def panel(qtbot):
    widget = TrainingPanel()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_training_panel_round_trips_every_hyperparameter(panel):
    default = TrainConfig()
    assert [f.name for f in fields(TrainConfig)
            if getattr(EVERYTHING_CHANGED, f.name) == getattr(default, f.name)] == []
    panel.set_config(EVERYTHING_CHANGED)
    assert panel.train_config() == EVERYTHING_CHANGED
    # A preset's advanced choices are shown, not hidden in a closed section.
    assert panel.advanced.isExpanded()
    assert panel.advanced.text() == "Advanced (13 changed)"
    other = TrainConfig(lr_schedule="step", batch_norm=True, dropout=0.0, initializer="glorot")
    panel.set_config(other)
    assert panel.train_config() == other
    panel.set_config(default)
    assert panel.train_config() == default and panel.advanced.text() == "Advanced"


def test_schedule_fields_show_only_when_relevant(panel):
    expected = {"constant": (False, False, False), "step": (True, True, False),
                "cosine": (False, False, False), "plateau": (True, False, True)}
    for schedule, shown in expected.items():
        panel.advanced_options.schedule.setCurrentIndex(
            panel.advanced_options.schedule.findData(schedule))
        visible = panel.advanced_options.schedule_fields_visible()
        assert (visible["lr_decay"], visible["lr_step_epochs"], visible["lr_patience"]) == shown
        assert panel.train_config().lr_schedule == schedule
    # Patience and the dropout rate are only editable when their switch is on.
    options = panel.advanced_options
    assert not options.patience.isEnabled() and not options.dropout.isEnabled()
    options.early.setChecked(True)
    options.dropout_on.setChecked(True)
    assert options.patience.isEnabled() and options.dropout.isEnabled()


def test_invalid_hyperparameters_show_the_problem_and_disable_train(qtbot, studio):
    configure(qtbot, studio, tiny_config())
    training = studio.training
    assert training.start.isEnabled()
    training.advanced_options.l2.setValue(1.0)
    assert not training.start.isEnabled()
    assert "l2 must be a penalty in [0, 1), got 1.0" in training.problems.text()
    assert training.problems.isVisible()
    training.advanced_options.l2.setValue(0.0005)
    assert training.start.isEnabled() and not training.problems.isVisible()
    # The MLP has no batch-norm option: switching it is refused with the reason.
    training.advanced_options.batch_norm.setCurrentIndex(
        training.advanced_options.batch_norm.findData("on"))
    assert "batch_norm cannot be switched for 'mlp'" in training.problems.text()
    assert not training.start.isEnabled()
    training.advanced_options.batch_norm.setCurrentIndex(
        training.advanced_options.batch_norm.findData("default"))
    assert training.start.isEnabled()
    assert studio.run_config().training.l2 == 0.0005


def _differs(images: np.ndarray) -> list[bool]:
    return [not np.array_equal(image, images[0]) for image in images[1:]]


@pytest.mark.slow
def test_augmentation_sliders_drive_the_config_and_the_preview(qtbot, studio):
    configure(qtbot, studio, tiny_config())
    panel = studio.augmentation
    with qtbot.waitSignal(panel.preview_updated, timeout=30_000):
        studio.docks["augmentation"].raise_()       # computed only while on screen
    original = studio.dataset.sample_image(0)
    assert panel.images.shape == (12, *original.shape)
    assert np.array_equal(panel.images[0], original)
    assert _differs(panel.images) == [False] * 11    # nothing on: identical copies

    with qtbot.waitSignal(panel.preview_updated, timeout=30_000):
        panel.sliders["rotation"].setValue(0.25)
        panel.sliders["zoom"].setValue(0.3)
    assert studio.run_config().training.augmentation == {"rotation": 0.25, "zoom": 0.3}
    assert np.array_equal(panel.images[0], original)
    assert _differs(panel.images) == [True] * 11
    assert "±90°" in panel.labels["rotation"].text()

    with qtbot.waitSignal(panel.preview_updated, timeout=30_000):
        qtbot.mouseClick(panel.reset, Qt.LeftButton)  # flips off, strengths 0
    assert studio.run_config().training.augmentation == {}
    assert _differs(panel.images) == [False] * 11

    # A loaded config fills the panel, and the run config carries it back.
    config = tiny_config()
    config.training.augmentation = {"flip": "horizontal", "contrast": 0.3}
    studio.set_run_config(config)
    assert panel.flip.currentData() == "horizontal"
    assert studio.run_config().training.augmentation == {"flip": "horizontal", "contrast": 0.3}
    qtbot.waitUntil(lambda: studio.background.idle, timeout=30_000)


def _image_tree(root, counts: dict[str, int]):
    import cv2

    rng = np.random.default_rng(0)
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            cv2.imwrite(str(root / name / f"{i}.png"), rng.integers(0, 255, (12, 12, 3),
                                                                      dtype=np.uint8))
    return root


def _bars_match(view, names, counts) -> None:
    bars = view.bars()
    assert [(name, count) for name, count, _ in bars] == list(zip(names, counts, strict=True))
    top = max(counts)
    widest = max(rect.width() for _, _, rect in bars)
    for _, count, rect in bars:
        assert rect.width() == pytest.approx(widest * count / top, abs=0.01)


@pytest.mark.slow
def test_class_balance_bars_and_skew_warning(qtbot, studio, tmp_path):
    configure(qtbot, studio, tiny_config())
    data = studio.dataset.dataset
    assert studio.dataset.balance.isVisible()
    _bars_match(studio.dataset.balance, data.class_names, data.counts("train"))
    assert not studio.dataset.balance_warning.isVisible()   # the digits are even

    tree = _image_tree(tmp_path / "skewed", {"Many": 30, "few": 3})
    studio.dataset.open_folder(str(tree))
    qtbot.waitUntil(lambda: studio.dataset.dataset is not None, timeout=30_000)
    data = studio.dataset.dataset
    counts = data.counts("train")
    assert len(studio.dataset.balance.bars()) == 2
    _bars_match(studio.dataset.balance, data.class_names, counts)
    warning = class_balance(counts, data.class_names)["warning"]
    assert warning and studio.dataset.balance_warning.isVisible()
    # Class names keep their case in the sentence.
    assert studio.dataset.balance_warning.text().startswith("⚠ Classes are unbalanced: 'Many'")
    qtbot.waitUntil(lambda: studio.background.idle, timeout=30_000)


@pytest.mark.slow
def test_chapter3_folder_preset_asks_for_the_folder(qtbot, studio, tmp_path):
    configure(qtbot, studio, tiny_config())
    menus.load_preset(studio, find_preset("chapter3-dogs-vs-cats"))
    dataset = studio.dataset
    assert dataset.dataset is None
    assert dataset.error.isVisible()
    assert "Choose the folder for this lesson" in dataset.error.text()
    assert "choose one" in dataset.combo.currentText()
    assert not studio.training.start.isEnabled()
    assert "dataset: Choose the folder for this lesson" in studio.training.problems.text()
    assert studio.run_config().dataset.options == {"path": "", "image_size": 128, "channels": 3}

    # Picking the folder keeps the lesson's image size, and Train comes on.
    tree = _image_tree(tmp_path / "pets", {"cat": 6, "dog": 6})
    dataset.open_folder(str(tree))
    qtbot.waitUntil(lambda: dataset.dataset is not None, timeout=30_000)
    assert dataset.dataset.input_shape == (128, 128, 3)
    assert not dataset.error.isVisible()
    qtbot.waitUntil(lambda: studio.architecture.problem is None
                    or studio.architecture.problem_is_error, timeout=60_000)
    assert studio.training.start.isEnabled(), studio.training.problems.text()

    # The other folder lesson too, and its initialiser arrives in the Advanced section.
    menus.load_preset(studio, find_preset("chapter3-traffic-signs-bn"))
    assert "Choose the folder for this lesson" in dataset.error.text()
    assert studio.training.advanced_options.initializer.currentData() == "glorot"
    assert not studio.training.start.isEnabled()
    qtbot.waitUntil(lambda: studio.background.idle, timeout=30_000)


@pytest.mark.slow
def test_finished_run_shows_its_test_evaluation_in_the_runs_table(qtbot, studio):
    configure(qtbot, studio, tiny_config(epochs=1))
    with qtbot.waitSignal(studio.bridge.finished, timeout=60_000) as done:
        qtbot.mouseClick(studio.training.start, Qt.LeftButton)
    run_dir = done.args[0].run_dir
    result = evaluation.load(run_dir)
    assert result is not None
    qtbot.waitUntil(lambda: studio.training.start.isEnabled(), timeout=30_000)
    row = studio.runs.paths.index(str(run_dir))
    cell = studio.runs.table.item(row, 6)
    assert cell.text() == f"{result['accuracy']:.1%} · F1 {result['macro_f1']:.2f}"
    assert "precision" in cell.toolTip()
