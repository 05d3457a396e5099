"""A tiny name → entry registry used for datasets and architectures.

Built-ins register through the same ``register`` call a plug-in would use.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Generic, TypeVar

from cnnstudio.core.errors import StudioError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, entry_id: str, entry: T) -> T:
        if entry_id in self._entries:
            raise ValueError(f"{self.kind} '{entry_id}' is registered twice")
        self._entries[entry_id] = entry
        return entry

    def get(self, entry_id: str) -> T:
        try:
            return self._entries[entry_id]
        except KeyError:
            raise StudioError(self.unknown_message(entry_id)) from None

    def unknown_message(self, entry_id: str) -> str:
        known = ", ".join(self._entries)
        close = difflib.get_close_matches(entry_id, list(self._entries), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown {self.kind} '{entry_id}'{hint} — known: {known}"

    def ids(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    def __iter__(self) -> Iterator[T]:
        return iter(self._entries.values())
