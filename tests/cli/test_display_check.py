"""A display Qt cannot use is named in one line before Qt loads, and the studio falls back
to headless training instead of Qt aborting the process (exit 134)."""

from __future__ import annotations

import socket

import pytest

from cnnstudio import cli
from cnnstudio.gui import display_check


def test_a_display_with_no_x_server_is_named():
    problem = display_check.display_problem({"DISPLAY": ":57"})
    assert problem is not None and "':57'" in problem and "DISPLAY=:57" in problem


def test_no_display_and_a_chosen_platform():
    assert "DISPLAY is not set" in display_check.display_problem({})
    assert display_check.display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display_check.display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None


def test_an_answering_x_socket_counts_as_reachable():
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind("\0/tmp/.X11-unix/X77")       # the abstract socket X servers also open
        server.listen(1)
        assert display_check.x_display_reachable(":77")
        assert display_check.x_display_reachable("unix:77.0")
    assert not display_check.x_display_reachable(":77")
    assert not display_check.x_display_reachable("not a display")


def test_missing_qt_libraries_are_named_with_the_install_command(monkeypatch):
    def no_library(name):
        raise OSError(name)

    monkeypatch.setattr(display_check.ctypes, "CDLL", no_library)
    plugin = display_check.xcb_plugin()
    if plugin is None:
        pytest.skip("PySide6 ships no xcb plugin here")
    missing = display_check.missing_libraries(plugin)
    assert "libxcb-cursor.so.0" in missing          # loaded by Qt at run time
    advice = display_check.install_advice(["libxcb-cursor.so.0", "libxcb-icccm.so.4"])
    assert advice == ("sudo apt install libxcb-cursor0 libxcb-icccm4  (Debian/Ubuntu) or "
                      "sudo dnf install xcb-util-cursor xcb-util-wm  (Fedora)")


def test_the_studio_falls_back_to_headless_training_naming_the_display(monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":57")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    calls = []
    monkeypatch.setattr("cnnstudio.cli.main", lambda argv: calls.append(argv) or 0)
    assert cli._open_studio([]) == 0
    assert calls == [["train", "--dataset", "mnist-5k", "--model", "lenet5", "--epochs", "10"]]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "':57'" in err[0] and "headless" in err[0]
