"""The book's lessons as one-click presets: plain RunConfig JSON files in resources/presets.

In the core (no Qt) so that a lesson file can be checked for presets it names without
the window; ``cnnstudio.gui.presets`` re-exports these for the menus.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from cnnstudio.core.config import RunConfig
from cnnstudio.core.errors import StudioError


def resources_dir() -> Path:
    """Presets, lessons and icons: cnnstudio/resources (package data, so installed copies
    have it too), or CNNSTUDIO_RESOURCES to use another folder."""
    override = os.environ.get("CNNSTUDIO_RESOURCES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "resources"


@dataclass
class Preset:
    key: str            # file stem, what --preset takes
    title: str          # the config's name, shown in menus
    path: Path

    def config(self) -> RunConfig:
        return RunConfig.load(self.path)


def presets_dir() -> Path:
    return resources_dir() / "presets"


def list_presets() -> list[Preset]:
    folder = presets_dir()
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            title = RunConfig.load(path).name or path.stem
        except StudioError:
            continue            # a broken preset file must not take the menu down
        found.append(Preset(path.stem, title, path))
    return found


def preset_keys() -> list[str]:
    folder = presets_dir()
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def find_preset(key: str) -> Preset:
    presets = list_presets()
    for preset in presets:
        if preset.key == key:
            return preset
    known = ", ".join(p.key for p in presets) or "none found in " + str(presets_dir())
    raise StudioError(f"unknown preset '{key}'{did_you_mean(key, [p.key for p in presets])}"
                      f" — known: {known}")


def did_you_mean(word: str, names: list[str]) -> str:
    close = difflib.get_close_matches(str(word), names, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
