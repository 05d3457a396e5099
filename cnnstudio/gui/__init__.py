"""The Qt studio. Everything here runs on the GUI thread unless a name says otherwise.

Nothing in this package imports TensorFlow at module level: the window shows
first and Keras loads on the background worker (see ``background.py``).
"""

from __future__ import annotations

from pathlib import Path

from cnnstudio.gui import pyside_import_hook

pyside_import_hook.install()


def resources_dir() -> Path:
    """Presets and icons: cnnstudio/resources (package data, so installed copies have it
    too), or CNNSTUDIO_RESOURCES to use another folder."""
    from cnnstudio.core.presets import resources_dir as core_resources_dir

    return core_resources_dir()
