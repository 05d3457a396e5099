"""A family installed from another package joins the studio through its entry points, with no
edit to the studio's own files: its model in the picker and in `cnnstudio models`, its tab in
the window, its own subcommand; and a broken plug-in is named, not fatal.

The package is written to a temporary folder with the ``*.dist-info`` metadata pip would
write (``entry_points.txt``), and each check runs in a fresh interpreter so the loaders see
it from the start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CORE = '''
from cnnstudio.core.architecture import Architecture
from cnnstudio.core.families.profile import Plot, Profile, Series
from cnnstudio.core.model_parts import build_mlp
from cnnstudio.core.options import Int
from cnnstudio.core.registry import ARCHITECTURES, COMMANDS, PROFILES

def register():
    ARCHITECTURES.register("toy-net", Architecture(
        "toy-net", "Toy network (plug-in)", "A family from another package.", "tests",
        lambda shape, classes, width=4: build_mlp(shape, classes, units=width, hidden_layers=1),
        specs=(Int("width", 4, 1, 64, "units of the toy layer"),), task="toy-task"))
    PROFILES.register("toy-task", Profile(
        "toy-task", "toy", (Plot("Toy loss", (Series("toy_loss", "toy loss"),)),),
        prediction="toy-view"))
    COMMANDS.register("toy-hello", "toyfamily.command", lazy=True)
'''
COMMAND = '''
HELP = "say hello from the toy family"

def add_arguments(parser):
    parser.add_argument("--name", default="studio")

def run(args):
    print(f"hello, {args.name}")
    return 0
'''
GUI = '''
from PySide6.QtWidgets import QLabel
from cnnstudio.gui.registry import PanelSpec, register_panel, register_prediction_view

class ToyTab(QLabel):
    def __init__(self, window):
        super().__init__("toy tab")

class ToyView(QLabel):
    def __init__(self, window):
        super().__init__("toy view")
    def set_run_dir(self, path):
        pass
    def predict_image(self, image, name):
        pass

def register():
    register_panel(PanelSpec("toy-tab", "Toy tab", "a plug-in's tab", ToyTab, {"toy-task"}))
    register_prediction_view("toy-view", ToyView)
'''
ENTRY_POINTS = '''
[cnnstudio.families]
toy = toyfamily.core_plugin:register
broken = toyfamily.missing_module:register

[cnnstudio.panels]
toy = toyfamily.gui_plugin:register
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("site")
    package = root / "toyfamily"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "core_plugin.py").write_text(CORE)
    (package / "command.py").write_text(COMMAND)
    (package / "gui_plugin.py").write_text(GUI)
    info = root / "toyfamily-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyfamily\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return root


def run(site: Path, code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.slow
def test_the_plugin_model_is_listed_and_its_command_runs(site):
    done = run(site, """
        import json, sys
        from cnnstudio.cli import main
        main(["models", "--json"])
        sys.exit(main(["toy-hello", "--name", "class"]))
    """)
    assert done.returncode == 0, done.stderr
    models_line, hello = done.stdout.strip().splitlines()[-2:]
    rows = {row["id"]: row for row in json.loads(models_line)}
    assert list(rows)[-1] == "toy-net" and "lenet5" in rows
    assert rows["toy-net"]["params"] == 28 * 28 * 4 + 4 + 4 * 10 + 10
    assert hello == "hello, class"
    # The broken entry point is named on stderr; the built-ins and the toy still load.
    assert "family plug-in 'broken' was not loaded: No module named" in done.stderr


@pytest.mark.slow
def test_the_plugin_model_is_in_the_picker_with_its_tab(site):
    done = run(site, """
        from PySide6.QtWidgets import QApplication
        from cnnstudio.gui.main_window import MainWindow

        app = QApplication([])
        window = MainWindow(runs_root=".")
        ids = [window.architecture.combo.itemData(i)
               for i in range(window.architecture.combo.count())]
        window.architecture.combo.setCurrentIndex(ids.index("toy-net"))
        print(window.tabs.tab_titles(), window.prediction.view.text(),
              list(window.architecture.options.editors), flush=True)
        window.confirm_close = lambda: True
        window.close()
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == \
        "['Training curves', 'Toy tab'] toy view ['width']"
