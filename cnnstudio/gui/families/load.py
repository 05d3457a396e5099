"""The one place that brings in the families' panels: the built-in ones, then any installed
package that declares an entry point in the ``cnnstudio.panels`` group.

    [project.entry-points."cnnstudio.panels"]
    myfamily = "myfamily.gui_plugin:register"

A family's GUI ``register()`` fills ``cnnstudio.gui.registry`` (centre tabs, panel
controllers, prediction views). The core families load first, so a panel may name the
tasks they registered.
"""

from __future__ import annotations

from cnnstudio.core.families.load import Loader
from cnnstudio.core.registry import ensure_loaded

GROUP = "cnnstudio.panels"
BUILT_IN = ("cnnstudio.gui.families.classification.plugin",
            "cnnstudio.gui.families.generative.plugin",
            "cnnstudio.gui.families.attention.plugin",
            "cnnstudio.gui.families.detection.plugin")

load_gui_families = Loader(BUILT_IN, GROUP, before=ensure_loaded)
