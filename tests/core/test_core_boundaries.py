"""The core imports no Qt, ``import cnnstudio`` is light, and the classification path
uses no TensorFlow directly (so it runs under KERAS_BACKEND=jax or torch)."""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "cnnstudio" / "core"

TRAIN_TINY = """
import json, sys
import cnnstudio
light = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'PySide6'))
from cnnstudio.core.config import RunConfig
from cnnstudio.core.training.engine import run
c = RunConfig()
c.dataset.id, c.dataset.options = 'digits', {'size': 12}
c.model.id, c.model.options = 'mlp', {'units': 16}
c.training.epochs = 1
result = run(c, runs_root=sys.argv[1])
qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'superqt', 'qtpy', 'shiboken6'))
print(json.dumps({'status': result.status, 'qt': qt, 'light': light}))
"""


def _train_tiny(tmp_path, **env):
    proc = subprocess.run([sys.executable, "-c", TRAIN_TINY, str(tmp_path)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_core_trains_without_importing_qt_and_import_is_light(tmp_path):
    out = _train_tiny(tmp_path)
    assert out["status"] == "finished"
    assert out["qt"] == []
    assert out["light"] == []


def test_no_direct_tensorflow_import_outside_tf_modules():
    offenders = []
    for path in CORE.rglob("*.py"):
        if path.name.endswith("_tf.py") or path.name == "tf_runtime.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*(import tensorflow|from tensorflow)", text, re.M):
            offenders.append(str(path.relative_to(CORE)))
    assert offenders == []


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed here")
def test_the_same_run_trains_on_jax(tmp_path):
    out = _train_tiny(tmp_path, KERAS_BACKEND="jax")
    assert out["status"] == "finished" and out["qt"] == []
