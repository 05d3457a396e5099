"""``cnnstudio --install-desktop-entry``: the studio in the desktop's application menu.

    install()      # $XDG_DATA_HOME/applications/cnnstudio.desktop, icons, metainfo
    uninstall()    # removes exactly those files

The files come from the package (cnnstudio/resources/desktop and icons), so a pip or
pipx install can do it without the source tree. ``Exec=`` becomes the absolute path of the
``cnnstudio`` script that runs now (a pipx venv's script is not on every desktop's PATH).
The desktop's caches are refreshed when their tools exist, and quietly skipped otherwise.
Imports neither Qt nor TensorFlow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from cnnstudio.core.errors import StudioError

APP = "cnnstudio"
METAINFO = "io.github.cnnstudio.CNNStudio.metainfo.xml"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
RESOURCES = Path(__file__).resolve().parent / "resources"


def data_home() -> Path:
    """$XDG_DATA_HOME, or ~/.local/share when it is unset or not absolute (the spec)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value and Path(value).is_absolute() else \
        Path.home() / ".local" / "share"


def executable() -> Path:
    """The installed ``cnnstudio`` script: the one running, else the one beside Python."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == APP:
        found = shutil.which(str(argv0)) if not argv0.is_absolute() else str(argv0)
        if found and Path(found).is_file():
            return Path(found).resolve()
    beside = Path(sys.executable).parent / APP
    if beside.is_file():
        return beside
    found = shutil.which(APP)
    if found:
        return Path(found).resolve()
    raise StudioError("cannot find the installed 'cnnstudio' command to put in the desktop "
                      "entry; install CNN Studio with pip or pipx first")


def targets(home: Path | None = None) -> dict[Path, Path]:
    """Where each shipped file goes: {destination: source}."""
    home = home or data_home()
    icons = RESOURCES / "icons"
    found = {home / "applications" / f"{APP}.desktop": RESOURCES / "desktop" / f"{APP}.desktop",
             home / "metainfo" / METAINFO: RESOURCES / "desktop" / METAINFO,
             home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP}.svg":
                 icons / f"{APP}.svg"}
    for size in SIZES:
        folder = f"{size}x{size}"
        found[home / "icons" / "hicolor" / folder / "apps" / f"{APP}.png"] = \
            icons / "hicolor" / folder / "apps" / f"{APP}.png"
    return found


def desktop_text(source: Path, command: Path) -> str:
    """The shipped entry with ``Exec=`` the absolute command (quoted when it has spaces)."""
    exec_value = f'"{command}"' if any(c in str(command) for c in ' \t"\'\\') else str(command)
    lines = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_value}"
        elif line.startswith("TryExec="):
            line = f"TryExec={command}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _refresh(home: Path, out) -> None:
    """Tell the desktop about the change, where its tools are installed."""
    steps = (("update-desktop-database", ["-q", str(home / "applications")]),
             ("gtk-update-icon-cache", ["-q", "-t", "-f", str(home / "icons" / "hicolor")]))
    for tool, args in steps:
        path = shutil.which(tool)
        if path is None:
            continue
        try:
            subprocess.run([path, *args], check=False, timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print(f"refreshed with {tool}", file=out)
        except (OSError, subprocess.SubprocessError):
            pass


def install(home: Path | None = None, command: Path | None = None, out=None) -> list[Path]:
    """Write the entry, icons and metainfo; print and return the files written."""
    out = out or sys.stdout
    home = home or data_home()
    command = command or executable()
    wanted = targets(home)
    missing = [str(src) for src in wanted.values() if not src.is_file()]
    if missing:
        raise StudioError(f"this install of CNN Studio lacks its desktop files ({missing[0]}); "
                          "reinstall it")
    written = []
    try:
        for dest, src in wanted.items():
            dest.parent.mkdir(parents=True, exist_ok=True)
            temp = dest.with_name(dest.name + ".part")
            if src.suffix == ".desktop":
                temp.write_text(desktop_text(src, command), encoding="utf-8")
            else:
                shutil.copyfile(src, temp)
            os.replace(temp, dest)          # atomic: a menu never reads half a file
            written.append(dest)
            print(f"wrote {dest}", file=out)
    except OSError as exc:
        raise StudioError(f"cannot write the desktop entry under {home}: {exc}") from None
    _refresh(home, out)
    return written


def uninstall(home: Path | None = None, out=None) -> list[Path]:
    """Remove what :func:`install` wrote (and nothing else); print and return it."""
    out = out or sys.stdout
    home = home or data_home()
    removed = []
    for dest in targets(home):
        if dest.is_file() or dest.is_symlink():
            try:
                dest.unlink()
            except OSError as exc:
                raise StudioError(f"cannot remove {dest}: {exc}") from None
            removed.append(dest)
            print(f"removed {dest}", file=out)
    if not removed:
        print(f"no CNN Studio desktop entry under {home}", file=out)
    _refresh(home, out)
    return removed
