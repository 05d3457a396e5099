"""Panels of the model families, one package per family (``generative/``, …).

Importing this package imports every family's panels, which register themselves in
``registry.PANELS`` (centre tabs) and ``registry.PREDICTION_VIEWS`` (prediction dock).
"""

from cnnstudio.gui.families import attention, classifier, detection, generative  # noqa: F401
