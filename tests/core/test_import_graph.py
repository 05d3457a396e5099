"""The package's import graph: no module imports itself through others (a circle makes import
order matter and a family impossible to read alone), and importing the core runs no family.
The layer contracts themselves are import-linter's (``make lint``, pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

import grimp


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph("cnnstudio")
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            if chain:
                cycles.append(" → ".join((module, *chain)))
    assert cycles == []


def test_importing_the_core_imports_no_family_until_the_loader_runs():
    code = ("import sys, cnnstudio.core, cnnstudio.core.registry as r\n"
            "before = sorted(m for m in sys.modules if m.startswith('cnnstudio.core.families.'))\n"
            "r.ARCHITECTURES.ids()\n"
            "after = [m for m in sys.modules if m.startswith('cnnstudio.core.families.')]\n"
            "print(before, len(after) > 10, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[] True False"
