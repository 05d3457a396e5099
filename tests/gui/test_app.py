"""The command line (presets, screenshot mode), start-up without TensorFlow, pixels, themes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QImage

from cnnstudio.gui.presets import list_presets
from tests.gui.conftest import configure, tiny_config


def test_shipped_presets_are_valid_run_configs():
    presets = {p.key: p for p in list_presets()}
    assert {"chapter1-mlp-mnist", "chapter4-lenet5-mnist", "chapter2-cifar10-cnn",
            "quickstart-lenet5-offline"} <= set(presets)
    for preset in presets.values():
        assert preset.config().problems() == [], preset.key
    assert presets["chapter2-cifar10-cnn"].config().dataset.id == "cifar10"


def test_unknown_preset_is_refused(capsys):
    from cnnstudio.gui.app import main

    assert main(["--preset", "no-such-lesson"]) == 2
    assert "unknown preset 'no-such-lesson'" in capsys.readouterr().err


@pytest.mark.slow
def test_screenshot_mode_saves_pngs_and_exits_0(qtbot, tmp_path, monkeypatch):
    from cnnstudio.gui.app import main

    resources = tmp_path / "resources"
    (resources / "presets").mkdir(parents=True)
    (resources / "presets" / "tiny.json").write_text(tiny_config(epochs=4).to_json())
    monkeypatch.setenv("CNNSTUDIO_RESOURCES", str(resources))
    shots, runs = tmp_path / "shots", tmp_path / "runs"
    code = main(["--preset", "tiny", "--screenshot-dir", str(shots), "--exit-after-epochs", "1",
                 "--runs-dir", str(runs)])
    assert code == 0
    names = {p.name for p in shots.glob("*.png")}
    assert {"studio.png", "plots.png", "dataset.png", "architecture.png", "training.png",
            "prediction.png", "runs.png", "pixel-view.png", "insight-filters.png",
            "insight-feature-maps.png", "insight-gradcam.png", "insight-epochs.png"} <= names
    studio = QImage(str(shots / "studio.png"))
    assert studio.width() >= 1000 and studio.height() >= 600
    # Not a blank picture: many distinct colours.
    pixels = {studio.pixel(x, y) for x in range(0, studio.width(), 23)
              for y in range(0, studio.height(), 23)}
    assert len(pixels) > 20
    # The run was held after epoch 1, then stopped: resumable.
    (run,) = list(runs.iterdir())
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "stopped" and status["epoch"] >= 1


def test_importing_the_app_does_not_import_tensorflow():
    code = ("import sys, cnnstudio.gui.app, cnnstudio.gui.main_window; "
            "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_clicking_a_sample_opens_the_pixel_view(qtbot, studio):
    from cnnstudio.gui.widgets.pixel_view import PixelViewDialog

    configure(qtbot, studio, tiny_config())
    thumbs = studio.dataset.thumbnails()
    assert len(thumbs) == 10 * 6            # six samples of each digit
    qtbot.mouseClick(thumbs[0], Qt.LeftButton)
    dialogs = studio.findChildren(PixelViewDialog)
    assert len(dialogs) == 1
    canvas = dialogs[0].canvas
    assert canvas.values().shape == (16, 16)
    assert np.array_equal(canvas.values(), thumbs[0].image[:, :, 0])
    picture = dialogs[0].grab().toImage()
    assert picture.width() >= 360
    dialogs[0].close()


@pytest.mark.slow
@pytest.mark.parametrize("theme", ["dark"])
def test_theme_and_layout_are_remembered(qtbot, tmp_path, runs_root, theme):
    from cnnstudio.gui.main_window import MainWindow

    path = str(tmp_path / "settings.ini")
    first = MainWindow(runs_root=runs_root, settings=QSettings(path, QSettings.IniFormat))
    qtbot.addWidget(first)
    first.set_theme(theme)
    first.docks["runs"].hide()
    first.close()
    second = MainWindow(runs_root=runs_root, settings=QSettings(path, QSettings.IniFormat))
    qtbot.addWidget(second)
    assert second.plots.theme.name == theme
    assert second.docks["runs"].isHidden()
    second.reset_layout()
    assert not second.docks["runs"].isHidden()
    second.close()
