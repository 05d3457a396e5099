"""The book's lessons as one-click presets: plain RunConfig JSON files in resources/presets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cnnstudio.core.config import RunConfig
from cnnstudio.core.errors import StudioError
from cnnstudio.gui import resources_dir


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


def find_preset(key: str) -> Preset:
    presets = list_presets()
    for preset in presets:
        if preset.key == key:
            return preset
    known = ", ".join(p.key for p in presets) or "none found in " + str(presets_dir())
    raise StudioError(f"unknown preset '{key}' — known: {known}")
