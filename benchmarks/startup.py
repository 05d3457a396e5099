"""Start-up time of the studio: process start → window shown → "TensorFlow ready".

Runs the studio in a fresh process (offscreen) three times and reports the
median. Goal: window shown ≤ 1.5 s. The last line is one JSON object.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import sys, time
t0 = float(sys.argv[1])
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from cnnstudio.gui.main_window import MainWindow
settings = QSettings(sys.argv[2], QSettings.IniFormat)
window = MainWindow(settings=settings)
window.confirm_close = lambda: True
window.show()
def shown():
    print("shown", time.time() - t0, flush=True)
QTimer.singleShot(0, shown)        # runs once the first paint has been queued and handled
def ready(_gpus):
    print("ready", time.time() - t0, flush=True)
    window.close()
    app.quit()
window.keras_ready.connect(ready)
app.exec()
"""


def once(root: str) -> dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CNNSTUDIO_RUNS=root)
    out = subprocess.run([sys.executable, "-c", CHILD, repr(time.time()),
                          os.path.join(root, "s.ini")], capture_output=True, text=True,
                         env=env, timeout=300, check=True).stdout
    return {line.split()[0]: float(line.split()[1]) for line in out.splitlines()
            if line.split() and line.split()[0] in ("shown", "ready")}


def main() -> None:
    with tempfile.TemporaryDirectory() as root:
        runs = [once(root) for _ in range(3)]
    shown = statistics.median(r["shown"] for r in runs)
    ready = statistics.median(r["ready"] for r in runs)
    print(f"window shown after {shown:.2f} s, TensorFlow ready after {ready:.2f} s "
          f"(median of {len(runs)})")
    print(json.dumps({"benchmark": "startup", "window_shown_s": round(shown, 3),
                      "tensorflow_ready_s": round(ready, 3), "goal_window_shown_s": 1.5,
                      "runs": len(runs)}))


if __name__ == "__main__":
    main()
