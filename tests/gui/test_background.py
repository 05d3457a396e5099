"""The window's background worker: closing lets the running job end and skips the queued ones
(closing a window was kept waiting for a dataset load and a model summary nobody would see)."""

from __future__ import annotations

import threading

from cnnstudio.gui.background import Background


def test_shutdown_finishes_the_running_job_and_skips_the_queued_ones(qtbot):
    background = Background()
    background.start()
    started, release = threading.Event(), threading.Event()
    ran, delivered = [], []

    def blocking():
        started.set()
        release.wait(10)
        ran.append("first")
        return 1

    background.submit(blocking, on_done=delivered.append)
    background.submit(lambda: ran.append("second"), on_done=delivered.append)
    background.submit(lambda: ran.append("third"), on_done=delivered.append)
    assert started.wait(10)
    threading.Timer(0.2, release.set).start()
    background.shutdown()               # returns once the running job has ended
    assert ran == ["first"]
    qtbot.waitUntil(lambda: background.idle, timeout=5_000)
    assert delivered == [1]             # the skipped jobs report nothing
