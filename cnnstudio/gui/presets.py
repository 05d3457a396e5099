"""The book's lessons as one-click presets: plain RunConfig JSON files in resources/presets.

The lookup lives in the core (``cnnstudio.core.presets``: lesson files name presets and
are checked without Qt); the menus import it from here as before.
"""

from __future__ import annotations

from cnnstudio.core.presets import Preset, find_preset, list_presets, presets_dir

__all__ = ["Preset", "find_preset", "list_presets", "presets_dir"]
