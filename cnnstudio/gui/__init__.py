"""The Qt studio. Everything here runs on the GUI thread unless a name says otherwise.

Nothing in this package imports TensorFlow at module level: the window shows
first and Keras loads on the background worker (see ``background.py``).
"""

from __future__ import annotations

import os
from pathlib import Path


def resources_dir() -> Path:
    """resources/ of a source checkout (repo root), or CNNSTUDIO_RESOURCES when installed elsewhere."""
    override = os.environ.get("CNNSTUDIO_RESOURCES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "resources"
