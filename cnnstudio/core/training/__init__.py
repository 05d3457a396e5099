"""Engine, events, run directories and devices: the one path every run takes."""
