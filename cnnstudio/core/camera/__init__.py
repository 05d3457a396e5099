"""A camera (or a video file, or generated frames) as a live source for prediction and
for Teachable-Machine-style capture. No Qt here: the GUI (cnnstudio/gui/camera) paints.

    source = GeneratedSource(fps=30)            # or CameraSource(0), VideoFileSource(path)
    grabber = FrameGrabber(source); grabber.start()
    predictor = LivePredictor("runs/…-lenet5", gradcam=True)
    frame, frame_id, t_captured = grabber.wait(after_id=-1)
    result = predictor.predict(frame)           # top-k, model_input, heatmap, seconds
    grabber.stop()

Frames are RGB uint8 (H, W, 3). A slow model never builds a queue: the grabber keeps only
the newest frame and counts the ones nobody took as dropped.
"""

from cnnstudio.core.camera.capture import record_frames
from cnnstudio.core.camera.generated import GeneratedSource
from cnnstudio.core.camera.grabber import FrameGrabber
from cnnstudio.core.camera.live import LivePrediction, LivePredictor
from cnnstudio.core.camera.sources import (
    CameraInfo,
    CameraSource,
    FrameSource,
    VideoFileSource,
    list_cameras,
)

__all__ = ["CameraInfo", "CameraSource", "FrameGrabber", "FrameSource", "GeneratedSource",
           "LivePrediction", "LivePredictor", "VideoFileSource", "list_cameras",
           "record_frames"]
