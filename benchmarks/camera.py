"""Live camera prediction on CPU: frames predicted per second, frames dropped, frame → answer.

A generated 640×480 source at 30 frames/s (cnnstudio/core/camera: MNIST digits drifting over a
texture, paced like a camera) feeds a FrameGrabber thread that keeps only the newest frame;
the main thread predicts frame after frame with a LivePredictor for ``--seconds`` per round:

- ``lenet_fps``: frames predicted per second by a LeNet-5 trained one epoch on mnist-5k
  (through the engine, in a temporary folder), the frame prepared as ``cnnstudio predict``
  prepares a photo; ``lenet_gradcam_fps`` with the Grad-CAM heat map computed for each frame;
- ``dropped_share``: frames the camera gave that no prediction took (dropped / captured);
- ``latency_ms_p50``: frame captured → prediction ready (what reaches the screen, less the
  paint), the median over all frames of the round; ``*_predict_ms_p50``: the prediction alone
  (frames/s cannot pass the camera's 30; this says how far below its budget the model is);
- ``mobilenet_fps``: the studio's transfer MobileNetV2 at 224×224. Its ImageNet weights are
  used when they are on this computer; otherwise the same network with random weights (the
  speed does not depend on the values), said in ``mobilenet_weights``.

Figures are medians over ``--rounds`` rounds, with their spread. Goals: lenet_fps ≥ 15,
latency_ms_p50 ≤ 100.

    python benchmarks/camera.py [--rounds 3] [--seconds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from _common import add_rounds, emit, goal, spread

from cnnstudio.core.camera import FrameGrabber, GeneratedSource, LivePredictor

WIDTH, HEIGHT, FPS = 640, 480, 30
GOAL_FPS, GOAL_LATENCY_MS = 15, 100


def measure(predictor: LivePredictor, seconds: float, seed: int) -> dict:
    """One round: the grabber on a fresh paced source, predictions for ``seconds``."""
    grabber = FrameGrabber(GeneratedSource(WIDTH, HEIGHT, FPS, seed=seed)).start()
    try:
        got = grabber.wait(timeout=5.0)
        if got is None:
            raise RuntimeError("the generated source gave no frame")
        predictor.predict(got[0])                         # warm, untimed
        last = got[1]
        captured0, dropped0 = grabber.captured, grabber.dropped
        latencies, model_s, done = [], [], 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            got = grabber.wait(after_id=last, timeout=1.0)
            if got is None:
                break
            frame, last, captured_at = got
            model_s.append(predictor.predict(frame).seconds)
            latencies.append(time.perf_counter() - captured_at)
            done += 1
        elapsed = time.perf_counter() - start
        captured, dropped = grabber.captured - captured0, grabber.dropped - dropped0
    finally:
        grabber.stop()
    return {"fps": done / elapsed, "dropped_share": dropped / max(1, captured),
            "latency_ms_p50": 1000 * statistics.median(latencies) if latencies else None,
            "captured_fps": captured / elapsed,
            "predict_ms": 1000 * statistics.median(model_s) if model_s else None}


def rounds_of(predictor, rounds: int, seconds: float) -> dict:
    found = [measure(predictor, seconds, seed) for seed in range(rounds)]
    return {key: [r[key] for r in found] for key in found[0]}


def train_lenet(root: str) -> str:
    from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
    from cnnstudio.core.training import engine

    config = RunConfig(DatasetConfig("mnist-5k", {}), ModelConfig("lenet5", {}),
                       TrainConfig(epochs=1, batch_size=64))
    return str(engine.run(config, runs_root=root).run_dir)


def mobilenet() -> tuple[LivePredictor | None, str]:
    """The transfer MobileNetV2 (224×224, 10 classes) and which weights it has."""
    from cnnstudio.core.datasets.keras_downloads import keras_cache_dir
    from cnnstudio.core.families.classification.transfer import weights_download
    from cnnstudio.core.registry import ARCHITECTURES

    shape = (224, 224, 3)
    cached = keras_cache_dir("models") / weights_download("mobilenetv2", False, shape).target
    weights = "imagenet" if cached.is_file() else "none"
    model = ARCHITECTURES.get("transfer").build(shape, 10, {"base": "mobilenetv2",
                                                            "weights": weights})
    said = "imagenet" if weights == "imagenet" else \
        "random: ImageNet weights absent; speed is the same"
    return LivePredictor((model, None, [str(i) for i in range(10)])), said


def _median(values, digits=1):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), digits) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_rounds(parser, 3, "rounds of live prediction per model")
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="seconds of live prediction per round (default 5)")
    args = parser.parse_args()
    figures: dict = {"source": f"generated {WIDTH}×{HEIGHT} at {FPS} fps",
                     "rounds": args.rounds, "seconds": args.seconds}
    with tempfile.TemporaryDirectory() as root:
        predictor = LivePredictor(train_lenet(root))
        plain = rounds_of(predictor, args.rounds, args.seconds)
        predictor.gradcam = True
        cam = rounds_of(predictor, args.rounds, args.seconds)
    figures.update({
        "lenet_fps": _median(plain["fps"]), "lenet_fps_spread": spread(plain["fps"], 1),
        "dropped_share": _median(plain["dropped_share"], 3),
        "latency_ms_p50": _median(plain["latency_ms_p50"]),
        "latency_ms_p50_spread": spread(plain["latency_ms_p50"], 1),
        "lenet_predict_ms_p50": _median(plain["predict_ms"]),
        "lenet_gradcam_fps": _median(cam["fps"]),
        "lenet_gradcam_fps_spread": spread(cam["fps"], 1),
        "lenet_gradcam_dropped_share": _median(cam["dropped_share"], 3),
        "lenet_gradcam_latency_ms_p50": _median(cam["latency_ms_p50"]),
        "lenet_gradcam_predict_ms_p50": _median(cam["predict_ms"]),
        "gradcam_error": predictor.gradcam_error})
    try:
        big, said = mobilenet()
        net = rounds_of(big, args.rounds, args.seconds)
        figures.update({"mobilenet_fps": _median(net["fps"]),
                        "mobilenet_fps_spread": spread(net["fps"], 1),
                        "mobilenet_dropped_share": _median(net["dropped_share"], 3),
                        "mobilenet_latency_ms_p50": _median(net["latency_ms_p50"]),
                        "mobilenet_predict_ms_p50": _median(net["predict_ms"]),
                        "mobilenet_weights": said})
    except Exception as exc:     # the figure is reported missing, with why, not a crash
        figures.update({"mobilenet_fps": None,
                        "mobilenet_reason": str(exc).splitlines()[0] or type(exc).__name__})
    figures.update({"goal_fps": GOAL_FPS, "goal_latency_ms": GOAL_LATENCY_MS})
    print(f"LeNet-5: {figures['lenet_fps']} frames/s, p50 {figures['latency_ms_p50']} ms "
          f"frame → answer, {figures['dropped_share']:.1%} dropped; with Grad-CAM "
          f"{figures['lenet_gradcam_fps']} frames/s; MobileNetV2: {figures['mobilenet_fps']} "
          f"frames/s ({figures.get('mobilenet_weights') or figures.get('mobilenet_reason')})")
    goal("lenet_fps", figures["lenet_fps"], ">=", GOAL_FPS, " frames/s")
    goal("latency_ms_p50", figures["latency_ms_p50"], "<=", GOAL_LATENCY_MS, " ms")
    goal("mobilenet_fps", figures["mobilenet_fps"], ">=", 5, " frames/s")
    emit(__file__, figures)


if __name__ == "__main__":
    main()
