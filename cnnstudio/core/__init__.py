"""The headless core: configs, datasets, models, the training engine and run directories.

Nothing under ``cnnstudio.core`` imports Qt (a test and the before-stop hook check it).
"""
