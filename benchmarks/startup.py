"""Start-up time of the studio: process start → window shown → "TensorFlow ready".

Runs the studio in a fresh process (offscreen) three times (``--rounds``) and reports
the median, with the spread. Goal: window shown ≤ 1.0 s (issue 24; was 1.5). The last line is one JSON object.

    python benchmarks/startup.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from _common import add_rounds, emit, goal, summary

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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_rounds(parser, 3, "studio starts, each in a fresh process")
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as root:
        runs = [once(root) for _ in range(rounds)]
    shown = summary((r["shown"] for r in runs), 3)
    ready = summary((r["ready"] for r in runs), 3)
    print(f"window shown after {shown['median']:.2f} s ({shown['min']:.2f}–{shown['max']:.2f}), "
          f"TensorFlow ready after {ready['median']:.2f} s "
          f"({ready['min']:.2f}–{ready['max']:.2f}) (median of {len(runs)})")
    goal("window shown", shown["median"], "<=", 1.0, " s")
    emit(__file__, {"window_shown_s": shown["median"], "tensorflow_ready_s": ready["median"],
                    "goal_window_shown_s": 1.0, "runs": len(runs), "rounds": rounds,
                    "window_shown_s_spread": [shown["min"], shown["max"]],
                    "tensorflow_ready_s_spread": [ready["min"], ready["max"]]})


if __name__ == "__main__":
    main()
