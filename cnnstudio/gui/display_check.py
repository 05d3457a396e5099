"""Before the QApplication: can Qt open a window here? If not, say why in one line.

Without this, a stale ``DISPLAY`` (an ssh session whose X server is gone) or Qt's xcb
plugin missing its system libraries makes Qt abort the process (exit 134) with a
message about plugins. Imports no Qt: it must run before Qt loads its platform plugin.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

# soname → (Debian/Ubuntu package, Fedora package)
PACKAGES = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
}
# Loaded by Qt at run time (dlopen), so ldd does not list it.
RUNTIME_ONLY = ("libxcb-cursor.so.0",)


class NoDisplay(Exception):
    """No screen to open the window on; the message says why (the CLI runs headless)."""


def xcb_plugin() -> Path | None:
    try:
        import PySide6  # the package only: importing it loads no Qt library
    except ImportError:
        return None
    path = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return path if path.is_file() else None


def missing_libraries(plugin: Path | None = None) -> list[str]:
    """Shared libraries Qt's xcb platform plugin needs and the system lacks."""
    plugin = plugin or xcb_plugin()
    if plugin is None or not sys.platform.startswith("linux"):
        return []
    missing: list[str] = []
    if shutil.which("ldd"):
        out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True,
                             timeout=10).stdout
        missing = re.findall(r"^\s*(\S+) => not found", out, flags=re.M)
    for name in RUNTIME_ONLY:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return sorted(set(missing))


def install_advice(missing: list[str]) -> str:
    debian = sorted({PACKAGES.get(m, (m,))[0] for m in missing})
    fedora = sorted({PACKAGES.get(m, (m, m))[1] for m in missing})
    return (f"sudo apt install {' '.join(debian)}  (Debian/Ubuntu) or "
            f"sudo dnf install {' '.join(fedora)}  (Fedora)")


def x_display_reachable(display: str, timeout: float = 1.0) -> bool:
    """Whether an X server answers at ``display`` (":0", "localhost:10.0", "host:1")."""
    match = re.fullmatch(r"(?P<addr>[^:]*):(?P<num>\d+)(?:\.\d+)?", display)
    if match is None:
        return False
    host, number = match.group("addr"), int(match.group("num"))
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{number}"
        for address in (path, "\0" + path):          # the file socket, then the abstract one
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                try:
                    sock.connect(address)
                    return True
                except OSError:
                    continue
        return False
    try:
        with socket.create_connection((host, 6000 + number), timeout=timeout):
            return True
    except OSError:
        return False


def display_problem(environ=None) -> str | None:
    """None when Qt can open a window; else one line naming the cause and the fix."""
    env = os.environ if environ is None else environ
    if env.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return None                      # the user chose a platform, or not X11 at all
    display = env.get("DISPLAY")
    if env.get("WAYLAND_DISPLAY") and not display:
        return None                      # Qt picks its Wayland plugin
    if not display:
        return "no display found (DISPLAY is not set)"
    if not x_display_reachable(display):
        return (f"cannot reach the X display '{display}' (DISPLAY={display}): no X server "
                "answers there (a closed ssh session or a stopped X server?)")
    missing = missing_libraries()
    if missing:
        return (f"Qt's X11 plugin lacks system libraries ({', '.join(missing)}); install them "
                f"with: {install_advice(missing)}")
    return None
