"""Dropped image → top-5 on screen, warm, for LeNet-5 (goal ≤ 100 ms).

Trains a one-epoch LeNet-5 on MNIST-5k in the studio (offscreen), then drops a
PNG on the Prediction panel 30 times (``--rounds``): after a run (Predictor on the
background worker) and during a run (served on the training thread between batches).
The last line is one JSON object.

    python benchmarks/predict_latency.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile

import cv2
from _common import add_rounds, emit, goal

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPEATS = 30


def _wait(signal) -> None:
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()
    signal.connect(loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)


def _measure(window, path, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds + 1):
        window.prediction.predict_file(path)
        _wait(window.prediction.shown)
        times.append(window.prediction.view.last_latency_ms)
    return times[1:]           # the first call loads the model: not "warm"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_rounds(parser, REPEATS, "timed drops after a run and again during one, after a "
                                "first drop that loads the model")
    rounds = parser.parse_args().rounds

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
    from cnnstudio.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 (kept alive)
    with tempfile.TemporaryDirectory() as root:
        os.environ["CNNSTUDIO_RUNS"] = root
        window = MainWindow(runs_root=root, settings=QSettings(os.path.join(root, "s.ini"),
                                                               QSettings.IniFormat))
        window.confirm_close = lambda: True
        window.show()
        _wait(window.keras_ready)
        window.set_run_config(RunConfig(DatasetConfig("mnist-5k"), ModelConfig("lenet5"),
                                        TrainConfig(epochs=1, batch_size=64)))
        window.start_training()
        _wait(window.bridge.finished)
        path = os.path.join(root, "digit.png")
        cv2.imwrite(path, window.dataset.dataset.test.x[0][:, :, 0])
        idle = _measure(window, path, rounds)
        # During training: a long run, answered between batches.
        window.training.epochs.setValue(50)
        window.start_training()
        _wait(window.bridge.started)
        live = _measure(window, path, rounds)
        window.close()
    figures = {"model": "lenet5", "repeats": rounds,
               "idle_p50_ms": round(statistics.median(idle), 1),
               "idle_max_ms": round(max(idle), 1),
               "training_p50_ms": round(statistics.median(live), 1),
               "training_max_ms": round(max(live), 1), "goal_ms": 100, "rounds": rounds}
    print(f"after a run: p50 {figures['idle_p50_ms']} ms (max {figures['idle_max_ms']}); "
          f"while training: p50 {figures['training_p50_ms']} ms "
          f"(max {figures['training_max_ms']})")
    goal("p50 after a run", figures["idle_p50_ms"], "<=", figures["goal_ms"], " ms")
    goal("p50 while training", figures["training_p50_ms"], "<=", figures["goal_ms"], " ms")
    emit(__file__, figures)


if __name__ == "__main__":
    main()
