"""The one place that brings in the families' panels: the built-in ones, then any installed
package that declares an entry point in the ``cnnstudio.panels`` group.

    [project.entry-points."cnnstudio.panels"]
    myfamily = "myfamily.gui_plugin:register"

A family's GUI ``register()`` fills ``cnnstudio.gui.registry`` (centre tabs, panel
controllers, prediction views). The core families load first, so a panel may name the
tasks they registered.
"""

from __future__ import annotations

import importlib

from cnnstudio.core.families.load import load_entry_points
from cnnstudio.core.registry import ensure_loaded

GROUP = "cnnstudio.panels"
BUILT_IN = ("cnnstudio.gui.families.classification.plugin",
            "cnnstudio.gui.families.generative.plugin",
            "cnnstudio.gui.families.attention.plugin",
            "cnnstudio.gui.families.detection.plugin")

_state = {"loaded": False, "loading": False}


def load_gui_families() -> None:
    if _state["loaded"] or _state["loading"]:
        return
    _state["loading"] = True
    try:
        ensure_loaded()
        for name in BUILT_IN:
            importlib.import_module(name).register()
        load_entry_points(GROUP)
        _state["loaded"] = True
    finally:
        _state["loading"] = False
