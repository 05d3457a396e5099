"""`cnnstudio --install-desktop-entry` / `--uninstall-desktop-entry` into a temporary
XDG_DATA_HOME: the files, their content, the icon sizes, and nothing left afterwards."""

from __future__ import annotations

import configparser
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cnnstudio import desktop_entry
from cnnstudio.cli import main

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
RESOURCES = Path(desktop_entry.__file__).parent / "resources"


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def _entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    home = tmp_path / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    # No cache tools: the refresh is skipped quietly (their presence is not what we test).
    monkeypatch.setattr(desktop_entry.shutil, "which", lambda name: None)
    return home


def test_install_writes_entry_icons_and_metainfo_then_uninstall_leaves_nothing(
        xdg, tmp_path, monkeypatch, capsys):
    script = tmp_path / "venv dir" / "bin" / "cnnstudio"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    monkeypatch.setattr(desktop_entry.sys, "argv", [str(script)])
    assert main(["--install-desktop-entry"]) == 0
    printed = capsys.readouterr().out.splitlines()

    entry_path = xdg / "applications" / "cnnstudio.desktop"
    entry = _entry(entry_path)
    assert entry["Exec"] == f'"{script}"'            # absolute, quoted: its folder has a space
    assert entry["Icon"] == "cnnstudio" and entry["Type"] == "Application"
    assert entry["Name"] == "CNN Studio" and entry["Terminal"] == "false"
    for size in SIZES:
        png = xdg / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "cnnstudio.png"
        assert _png_size(png) == (size, size)
    svg = xdg / "icons" / "hicolor" / "scalable" / "apps" / "cnnstudio.svg"
    assert ET.parse(svg).getroot().tag.endswith("svg")
    metainfo = xdg / "metainfo" / "io.github.cnnstudio.CNNStudio.metainfo.xml"
    assert metainfo.read_bytes() == (RESOURCES / "desktop" / metainfo.name).read_bytes()

    written = sorted(p for p in xdg.rglob("*") if p.is_file())
    assert len(written) == len(SIZES) + 3
    assert sorted(f"wrote {p}" for p in written) == sorted(printed)

    assert main(["--uninstall-desktop-entry"]) == 0
    removed = capsys.readouterr().out.splitlines()
    assert sorted(removed) == sorted(f"removed {p}" for p in written)
    assert [p for p in xdg.rglob("*") if p.is_file()] == []
    assert main(["--uninstall-desktop-entry"]) == 0          # again: nothing to remove
    assert "no CNN Studio desktop entry" in capsys.readouterr().out


def test_uninstall_keeps_other_applications_files(xdg, capsys):
    desktop_entry.install(command=Path("/opt/cnn/bin/cnnstudio"))
    other = xdg / "applications" / "other.desktop"
    other_icon = xdg / "icons" / "hicolor" / "48x48" / "apps" / "other.png"
    for path in (other, other_icon):
        path.write_text("x", encoding="utf-8")
    assert _entry(xdg / "applications" / "cnnstudio.desktop")["Exec"] == "/opt/cnn/bin/cnnstudio"
    desktop_entry.uninstall()
    assert sorted(p for p in xdg.rglob("*") if p.is_file()) == sorted([other, other_icon])


def test_bad_use_is_one_line(xdg, capsys, tmp_path):
    assert main(["--install-desktop-entry", "--now"]) == 2
    assert capsys.readouterr().err.strip() == ("cnnstudio: error: --install-desktop-entry "
                                               "takes no other arguments, got '--now'")
    blocked = tmp_path / "file"
    blocked.write_text("x", encoding="utf-8")
    with pytest.raises(desktop_entry.StudioError, match="cannot write the desktop entry"):
        desktop_entry.install(home=blocked, command=Path("/usr/bin/cnnstudio"))


def test_the_shipped_files_are_valid(tmp_path):
    entry = _entry(RESOURCES / "desktop" / "cnnstudio.desktop")
    assert entry["Icon"] == "cnnstudio" and entry["Exec"] == "cnnstudio"
    assert entry["Categories"].endswith(";")
    metainfo = RESOURCES / "desktop" / "io.github.cnnstudio.CNNStudio.metainfo.xml"
    root = ET.parse(metainfo).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    for tag in ("id", "name", "summary", "metadata_license", "project_license",
                "description", "launchable", "content_rating"):
        assert root.find(tag) is not None, f"metainfo lacks <{tag}>"
    assert root.findtext("id") == "io.github.cnnstudio.CNNStudio"
    assert root.findtext("launchable") == "cnnstudio.desktop"
    assert root.findtext("provides/binary") == "cnnstudio"
    shots = [s.findtext("image") for s in root.iter("screenshot")]
    assert shots and all(s.startswith("https://") for s in shots)
    repo = Path(__file__).resolve().parents[2]
    for url in shots:          # each one is a picture the repository holds
        assert (repo / "docs" / "screenshots" / url.rsplit("/", 1)[-1]).is_file(), url
    # The links under packaging/ point at the shipped files.
    for name in ("cnnstudio.desktop", metainfo.name):
        assert (repo / "packaging" / name).resolve() == (RESOURCES / "desktop" / name).resolve()
    tool = shutil.which("appstreamcli")
    if tool:
        done = subprocess.run([tool, "validate", "--no-net", str(metainfo)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_icons_are_the_svg_rendered(qapp, tmp_path):
    """The committed PNGs are what packaging/render_icons.py makes of the SVG now (qapp:
    the test process keeps one QApplication, never a bare QGuiApplication)."""
    import importlib.util

    repo = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("render_icons",
                                                  repo / "packaging" / "render_icons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in module.render(out=tmp_path):
        size = int(path.parent.parent.name.split("x")[0])
        shipped = RESOURCES / "icons" / "hicolor" / path.parent.parent.name / "apps" / path.name
        assert _png_size(path) == _png_size(shipped) == (size, size)
        assert path.read_bytes() == shipped.read_bytes(), f"re-render {shipped.name} at {size}"
