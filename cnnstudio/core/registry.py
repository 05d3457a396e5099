"""The studio's registries: what the families add, by name. A leaf: it imports no family.

    ARCHITECTURES   model id → Architecture (its options as OptionSpecs)
    DATASETS        dataset id → DatasetSource
    TASKS           task name → the task object (imported lazily: tasks import Keras)
    PROFILES        task name → Profile (curves, prediction behaviour; no Keras)
    CLI_HOOKS       "<verb>:<task>" → a function for a CLI subcommand on that task's runs
    COMMANDS        subcommand name → a module with HELP, add_arguments(parser), run(args)
    MODEL_MODULES   modules defining Keras classes, imported before a .keras file loads

Families fill them from their ``plugin.py`` (see ``cnnstudio.core.families.load``).
The first lookup in any registry runs the loader, so a library user, a test or a
benchmark never has to remember to; ``register`` never does (families call it while
the loader runs). The loader is named by a string, not imported: a registry must not
depend on the families that fill it (``make lint`` holds this with import-linter).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from cnnstudio.core.errors import StudioError

T = TypeVar("T")

_LOADER = "cnnstudio.core.families.load"


def ensure_loaded() -> None:
    """Run the family loader once (a no-op while it runs or after it ran)."""
    importlib.import_module(_LOADER).load_families()


def resolve(target: str) -> Any:
    """``"package.module:attribute"`` → that attribute, importing the module."""
    module, _, attr = target.partition(":")
    value = importlib.import_module(module)
    for part in filter(None, attr.split(".")):
        value = getattr(value, part)
    return value


class Registry(Generic[T]):
    """Name → entry. An entry may be given as ``"module:attribute"`` (``lazy=True``) so that
    registering it imports nothing heavy; it is imported on first ``get``."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Any] = {}
        self._lazy: set[str] = set()

    def register(self, entry_id: str, entry: T | str, lazy: bool = False) -> T | str:
        if entry_id in self._entries:
            raise ValueError(f"{self.kind} '{entry_id}' is registered twice")
        self._entries[entry_id] = entry
        if lazy:
            self._lazy.add(entry_id)
        return entry

    def unregister(self, entry_id: str) -> None:
        """Take an entry out (a test family's clean-up)."""
        self._entries.pop(entry_id, None)
        self._lazy.discard(entry_id)

    def _all(self) -> dict[str, Any]:
        ensure_loaded()
        return self._entries

    def get(self, entry_id: str) -> T:
        entries = self._all()
        if entry_id not in entries:
            raise StudioError(self.unknown_message(entry_id))
        if entry_id in self._lazy:
            entries[entry_id] = resolve(entries[entry_id])
            self._lazy.discard(entry_id)
        return entries[entry_id]

    def find(self, entry_id: str, default=None):
        """The entry, or ``default`` when none is registered under that name."""
        return self.get(entry_id) if entry_id in self else default

    def unknown_message(self, entry_id: str) -> str:
        names = list(self._all())
        close = difflib.get_close_matches(str(entry_id), names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown {self.kind} '{entry_id}'{hint} — known: {', '.join(names)}"

    def ids(self) -> list[str]:
        return list(self._all())

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._all()

    def __iter__(self) -> Iterator[T]:
        return iter([self.get(name) for name in self.ids()])


ARCHITECTURES: Registry = Registry("model")
DATASETS: Registry = Registry("dataset")
TASKS: Registry = Registry("task")
PROFILES: Registry = Registry("task profile")
# "predict:<task>", "generate:<task>", "export:<task>" → "module:function" (lazy).
CLI_HOOKS: Registry = Registry("command hook")
COMMANDS: Registry = Registry("command")
MODEL_MODULES: list[str] = []


def register_model_module(name: str) -> None:
    if name not in MODEL_MODULES:
        MODEL_MODULES.append(name)


def import_model_modules() -> None:
    """Every family's Keras classes, so a .keras file naming them can be read."""
    ensure_loaded()
    for name in MODEL_MODULES:
        importlib.import_module(name)


def cli_hook(verb: str, task: str):
    """The function a family registered for ``cnnstudio <verb>`` on its runs, or None."""
    key = f"{verb}:{task}"
    return CLI_HOOKS.get(key) if key in CLI_HOOKS else None
