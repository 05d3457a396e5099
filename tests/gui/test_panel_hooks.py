"""The window calls a panel's hooks by name (``gui/registry.py``: ``call(panel, "shown")``
when its tab comes to the front): no panel may keep data under a hook's name (issue 22:
the captions panel's ``self.shown`` dict broke ``shown()`` with "'dict' object is not
callable")."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import cnnstudio.gui.families as families
from cnnstudio.gui.registry import PANELS

HOOKS = {"run_started", "epoch_done", "probe_ready", "run_finished", "open_run", "set_image",
         "shown", "close_panel", "tab_shown", "busy"}


def hook_assignments(source: str) -> list[tuple[int, str]]:
    """(line, name) of every ``self.<hook> = …`` in a module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign | ast.AugAssign) else []
        for target in targets:
            for item in ast.walk(target):
                if (isinstance(item, ast.Attribute) and item.attr in HOOKS
                        and isinstance(item.value, ast.Name) and item.value.id == "self"):
                    found.append((item.lineno, item.attr))
    return found


def test_the_scan_finds_a_clash():
    assert hook_assignments("class P:\n    def f(self):\n        self.shown: dict = {}\n"
                            "        self.busy, self.ok = 1, 2\n") == [(3, "shown"), (4, "busy")]


def test_no_family_module_stores_data_under_a_hook_name():
    root = Path(families.__file__).parent
    clashes = [f"{path.relative_to(root)}:{line} self.{name}"
               for path in sorted(root.rglob("*.py"))
               for line, name in hook_assignments(path.read_text(encoding="utf-8"))]
    assert clashes == []


def test_every_registered_panels_hooks_are_methods():
    for spec in PANELS:
        if not (spec.hooks and inspect.isclass(spec.factory)):
            continue
        for hook in HOOKS:
            attr = inspect.getattr_static(spec.factory, hook, None)
            assert attr is None or inspect.isfunction(attr), (spec.id, hook, attr)
