"""Shared test setup: offscreen Qt, no network, and every run written under a temp folder."""

from __future__ import annotations

import os
import socket

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Runs and the Keras cache go to fresh folders, never the user's."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CNNSTUDIO_RUNS", str(base / "runs"))
    monkeypatch.setenv("KERAS_HOME", str(base / "keras"))
    return base


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """No test may download anything: outside connections fail at once."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1") \
                and not host.startswith(("/", "\0")):     # Unix sockets are local
            raise OSError(f"network disabled in tests (tried {host})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def runs_root(tmp_path):
    root = tmp_path / "runs"
    root.mkdir()
    return root


# PySide 6.12 sometimes aborts the interpreter while it tears down Qt wrappers after the
# last test ("Fatal Python error: bool_dealloc" in the final garbage collection), turning
# a green run into exit 134. Everything is reported and written by then, so the session
# leaves with its own exit status and skips that teardown.
_EXIT_STATUS = {"value": None}


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS["value"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if _EXIT_STATUS["value"] is not None and os.environ.get("CNNSTUDIO_TEST_HARD_EXIT", "1") == "1":
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS["value"])
