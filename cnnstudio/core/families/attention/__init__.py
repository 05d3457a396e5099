"""The attention family (book chapter 9): the Recurrent Attention Model with its Glimpse
Sensor, and image captioning with soft attention — models, tasks, data and probes.

Importing this package registers the architectures and tasks (light modules only; the
Keras classes live in ``*_models.py``). The datasets' modules are imported by
``cnnstudio.core.datasets`` itself, so nothing here may import that package at import time.
"""

from cnnstudio.core.families.attention import captioner, ram  # noqa: F401
