"""A lighter PySide6 import hook, installed once before TensorFlow is imported.

PySide6 inspects every module imported after it (for its ``from __feature__ import
snake_case`` switch) with ``inspect.getsource``: that reads and line-splits each file through
``linecache`` and keeps it there. TensorFlow and Keras bring ~2,400 modules, imported on the
background thread while the window paints, so this cost ~0.5 s of CPU under the interpreter
lock and kept ~140 MB of their sources in memory for the life of the process (measured:
845 → 707 MB peak after ``import tensorflow, keras``). Same question, one raw read, nothing kept.
"""

from __future__ import annotations

import sys


def _uses_pyside(module) -> bool:
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return False            # built in or compiled: PySide's own check says False too
    try:
        with open(path, "rb") as source:
            return b"PySide6" in source.read()
    except OSError:
        return False


def install() -> bool:
    """Swap PySide's check for the raw read; False where this PySide has no such hook."""
    import PySide6.QtCore  # noqa: F401  (loads shibokensupport and its hook)

    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = _uses_pyside
    return True
