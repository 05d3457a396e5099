"""PySide's per-import source check, made light: modules imported after the window's package
are no longer read into linecache, and a module that uses PySide6 is still recognised."""

from __future__ import annotations

import linecache
import sys

import pytest

import cnnstudio.gui  # noqa: F401  (installs the hook)


@pytest.mark.slow
def test_an_import_after_the_gui_leaves_no_source_in_linecache(tmp_path, monkeypatch):
    plain = tmp_path / "studio_probe_plain.py"
    plain.write_text("VALUE = 41 + 1\n")
    qt = tmp_path / "studio_probe_qt.py"
    qt.write_text("import PySide6.QtCore\nVALUE = 'uses PySide6'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import studio_probe_plain
    import studio_probe_qt

    assert studio_probe_plain.VALUE == 42 and studio_probe_qt.VALUE == "uses PySide6"
    assert str(plain) not in linecache.cache and str(qt) not in linecache.cache
    feature = sys.modules["shibokensupport.feature"]
    assert feature.pyside_feature_dict["studio_probe_plain"] == -1    # ignored by switching
    assert feature.pyside_feature_dict["studio_probe_qt"] == 0        # a PySide user
