"""The window on a laptop's screen, in a real X server with a window manager (Xvfb +
openbox; `.ci/run` installs them when missing): for every preset at 1366×768 and
1280×800, the window's frame stays inside the screen, never resizes itself, and Train and
Stop are visible and clickable (the widget under their centre is the button)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
NEEDED = ("Xvfb", "openbox")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(any(shutil.which(tool) is None for tool in NEEDED),
                                 reason="needs Xvfb and openbox (apt-get install xvfb openbox)")]


@pytest.fixture
def x_screen(request, tmp_path):
    """An X server of the size asked for, with openbox managing its windows."""
    width, height = request.param
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0",
                               f"{width}x{height}x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        display = ":" + pipe.readline().strip()
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    manager = subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    yield env, (width, height)
    for process in (manager, server):
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("x_screen", [(1366, 768), (1280, 800)], indirect=True,
                         ids=["1366x768", "1280x800"])
def test_every_preset_fits_the_screen_with_train_and_stop_reachable(x_screen, tmp_path):
    env, (width, height) = x_screen
    done = subprocess.run([sys.executable, str(HERE / "window_check.py"),
                           str(tmp_path / "settings.ini"), str(tmp_path / "runs")],
                          env=env, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(rows) >= 29 and rows[0]["platform"] == "xcb"
    assert rows[0]["screen"][2] <= width and rows[0]["screen"][3] <= height
    for row in rows:
        assert row["inside"], row
        assert row["train"] and row["stop"], row
    assert len({tuple(row["frame"][2:]) for row in rows}) == 1    # never resized itself
