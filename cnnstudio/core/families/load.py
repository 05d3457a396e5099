"""The one place that brings the families in: the built-in ones, then any installed package
that declares an entry point in the ``cnnstudio.families`` group.

    [project.entry-points."cnnstudio.families"]
    myfamily = "myfamily.plugin:register"

A family's ``register()`` fills the registries of ``cnnstudio.core.registry``
(architectures with their option specs, datasets, tasks, profiles, CLI hooks). The
registries call ``load_families()`` on their first lookup; the CLI, the app and the
engine see the same, once-loaded studio.
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import entry_points

GROUP = "cnnstudio.families"
# Registration order is the model picker's order (chapters 1–5, 6 and 8, 9, 7).
BUILT_IN = ("cnnstudio.core.datasets.plugin",
            "cnnstudio.core.families.classification.plugin",
            "cnnstudio.core.families.generative.plugin",
            "cnnstudio.core.families.attention.plugin",
            "cnnstudio.core.families.detection.plugin")

# Entry points that failed to load: (name, one line); the window and `cnnstudio models` say so.
FAILED: list[tuple[str, str]] = []


class Loader:
    """Imports ``built_in`` plug-in modules and the ``group``'s entry points, calling each
    one's ``register()``, once; a lookup made while loading does not load again."""

    def __init__(self, built_in: tuple[str, ...], group: str, before=lambda: None):
        self.built_in, self.group, self.before = built_in, group, before
        self.loaded = self.loading = False

    def __call__(self) -> None:
        if self.loaded or self.loading:
            return
        self.loading = True
        try:
            self.before()
            for name in self.built_in:
                importlib.import_module(name).register()
            for point in entry_points(group=self.group):
                _load_entry_point(point)
            self.loaded = True
        finally:
            self.loading = False


load_families = Loader(BUILT_IN, GROUP)


def _load_entry_point(point) -> None:
    """An outside family that fails to import is named, not fatal: the studio still opens."""
    try:
        register = point.load()
        register()
    except Exception as exc:        # its bug, not the studio's: keep the built-ins working
        line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        FAILED.append((point.name, line))
        print(f"cnnstudio: family plug-in '{point.name}' was not loaded: {line}",
              file=sys.stderr)
