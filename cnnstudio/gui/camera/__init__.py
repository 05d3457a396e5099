"""The Camera tab (issue 28, section 2): live prediction from a camera, a video file, a
screen region or generated digits, and Teachable-Machine-style capture and training. The
frames, the grabber and the live predictor are the core's (cnnstudio/core/camera)."""
