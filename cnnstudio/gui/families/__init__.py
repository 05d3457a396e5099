"""The families' panels, one package per family (``classification/``, ``generative/``, …),
each declaring what it adds to the window in its ``plugin.py``; ``load.py`` brings them in
(``cnnstudio.gui.registry`` asks it on first use).
"""
