"""Task "haar": nothing to train — a run of ``haar-cascade`` is refused with one clear
message before its run folder exists (the engine calls ``check`` first)."""

from __future__ import annotations

from cnnstudio.core.errors import ConfigError
from cnnstudio.core.families.detection.haar import NOTHING_TO_TRAIN, TASK


class HaarOnly:
    name = TASK

    def check(self, dataset, options: dict, cfg) -> None:
        raise ConfigError(NOTHING_TO_TRAIN)


INSTANCE = HaarOnly()   # registered by the family plugin
