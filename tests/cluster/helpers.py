"""`cnnstudio` as a child process on the JAX backend, and its JSON summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def cnnstudio(*args, **env) -> subprocess.Popen:
    """`cnnstudio ARGS` in a new process on the JAX backend; stdout and stderr captured."""
    return subprocess.Popen([sys.executable, "-m", "cnnstudio", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3",
                                 **env})


def last_json(text: str) -> dict:
    """The JSON summary: the last line (gloo prints its own lines on stdout first)."""
    return json.loads(text.strip().splitlines()[-1])
