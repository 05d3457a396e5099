"""The wheel works on its own: .ci/wheel_smoke builds it, installs it into a fresh venv and
runs a lesson, the screenshot mode and the desktop entry from outside the repository."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.skipif(not (REPO / ".venv" / "bin" / "python").is_file(),
                    reason="the smoke script borrows .venv's packages (make install)")
def test_the_wheel_runs_from_a_fresh_venv():
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "XDG_DATA_HOME")}
    done = subprocess.run([str(REPO / ".ci" / "wheel_smoke")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=880)
    said = [line for line in (done.stdout + done.stderr).splitlines()
            if line.startswith("wheel-smoke")]
    assert done.returncode == 0, "\n".join(said) + "\n" + done.stderr[-3000:]
    assert said[-1] == "wheel-smoke: ok"
    imported = next(line for line in said if "import cnnstudio ->" in line)
    assert "cnnstudio-wheel-smoke" in imported and str(REPO) not in imported.split("->")[1]
    assert any("--lesson chapter1-" in line for line in said), "\n".join(said)
