"""Model families beyond the classifiers: each one a package holding its models, task,
data generators and probes (``generative/``, later ``attention/`` and ``detection/``).

What the studio needs to know about a family without importing TensorFlow — the
curves it plots and what the prediction dock does with an image — is its task's
``profile`` (``cnnstudio.core.families.profile``).
"""

from __future__ import annotations

import importlib

# Modules defining a family's Keras classes (registered serializable). They import Keras,
# so the light modules that register architectures and tasks name them here instead of
# importing them; load_model_file imports them all before reading a .keras file.
_MODEL_MODULES: list[str] = []
# Modules defining a family's task (they import Keras too); tasks.py imports them once
# the classifier tasks are registered.
_TASK_MODULES: list[str] = []


def register_model_module(name: str) -> None:
    if name not in _MODEL_MODULES:
        _MODEL_MODULES.append(name)


def import_model_modules() -> None:
    for name in _MODEL_MODULES:
        importlib.import_module(name)


def register_task_module(name: str) -> None:
    if name not in _TASK_MODULES:
        _TASK_MODULES.append(name)


def import_task_modules() -> None:
    import cnnstudio.core.models  # noqa: F401  (the families' light modules name their tasks)

    for name in _TASK_MODULES:
        importlib.import_module(name)
