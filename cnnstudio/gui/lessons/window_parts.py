"""The parts of the studio window a lesson step reaches: a centre tab by title or panel id,
the epoch slider of the tab in front, a dataset sample of a class.

Panels keep their epoch sliders in two shapes: an ``EpochReplay`` as ``panel.replay``,
or ``panel.epochs`` (stored epochs) with ``panel.set_epoch(n)``. Both are found here, so
the player needs no knowledge of any family's panels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnstudio.core.errors import StudioError


def find_tab(window, name: str) -> int:
    """The index of the centre tab titled ``name`` (any case) or showing panel ``name``."""
    tabs = window.tabs
    titles = tabs.tab_titles()
    wanted = name.strip().lower()
    for i, title in enumerate(titles):
        if title.lower() == wanted:
            return i
    panels = tabs.panels()
    if name in panels:
        return tabs.indexOf(tabs._page(panels[name]))
    raise StudioError(f"no tab '{name}' for this model — its tabs: {', '.join(titles)}"
                      + (f" (panel ids: {', '.join(panels)})" if panels else ""))


@dataclass
class EpochControl:
    owner: Any                 # the panel holding the slider

    @property
    def _replay(self):
        return getattr(self.owner, "replay", None)

    def epochs(self) -> list[int]:
        replay = self._replay
        if replay is not None:
            replay.reload()
            return list(replay.epochs)
        if not getattr(self.owner, "epochs", None) and callable(getattr(self.owner, "reload",
                                                                         None)):
            self.owner.reload()         # a tab not shown yet may not have looked
        return list(getattr(self.owner, "epochs", []) or [])

    def current(self) -> int | None:
        replay = self._replay
        if replay is not None:
            return replay.current
        frame = getattr(self.owner, "current", None) or getattr(self.owner, "frame", None)
        epoch = getattr(frame, "epoch", None)
        return int(epoch) if isinstance(epoch, int | np.integer) else None

    def set_epoch(self, epoch: int) -> None:
        (self._replay or self.owner).set_epoch(epoch)


def control_of(panel) -> EpochControl | None:
    if panel is None:
        return None
    replay = getattr(panel, "replay", None)
    if replay is not None and hasattr(replay, "set_epoch"):
        return EpochControl(panel)
    if callable(getattr(panel, "set_epoch", None)) and hasattr(panel, "epochs"):
        return EpochControl(panel)
    return None


def epoch_control(window, bring_forward: bool = True) -> EpochControl | None:
    """The epoch slider of the tab in front; else of the first tab that has one with
    stored epochs (brought to the front)."""
    tabs = window.tabs
    control = control_of(tabs.current_panel())
    if control is not None:
        return control
    fallback = None
    for panel in tabs.panels().values():
        control = control_of(panel)
        if control is None:
            continue
        if control.epochs():
            if bring_forward:
                tabs.show_panel(panel)
            return control
        fallback = fallback or control
    return fallback


def sample_of_class(window, name: str) -> tuple[np.ndarray, str]:
    """A sample of class ``name`` (its name in any case, or its number) from the dataset
    panel's grid."""
    thumbs = window.dataset.thumbnails()
    if not thumbs:
        raise StudioError("the dataset shows no samples yet")
    captions = [t.caption for t in thumbs]
    wanted = name.strip().lower()
    for thumb in thumbs:
        if str(thumb.caption).lower() == wanted:
            return thumb.image, str(thumb.caption)
    dataset = window.dataset.dataset
    names = list(getattr(dataset, "class_names", []) or [])
    if wanted.isdigit() and int(wanted) < len(names):
        for thumb in thumbs:
            if thumb.caption == names[int(wanted)]:
                return thumb.image, str(thumb.caption)
    shown = ", ".join(dict.fromkeys(str(c) for c in captions))
    raise StudioError(f"no sample of class '{name}' — classes: {shown}")
