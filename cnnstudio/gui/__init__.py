"""The Qt studio. Everything here runs on the GUI thread unless a name says otherwise.

Nothing in this package imports TensorFlow at module level: the window shows
first and Keras loads on the background worker (see ``background.py``).
"""

from __future__ import annotations

import os
from pathlib import Path


def resources_dir() -> Path:
    """Presets and icons: cnnstudio/resources (package data, so installed copies have it
    too), or CNNSTUDIO_RESOURCES to use another folder."""
    override = os.environ.get("CNNSTUDIO_RESOURCES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "resources"
