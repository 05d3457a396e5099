"""The model families, one package each (``classification/``, ``generative/``,
``attention/``, ``detection/``), holding its models, task, data generators and probes.

Each family declares what it adds in its ``plugin.py`` (``register()``); ``load.py``
brings in the built-in families and those installed from other packages. What the
studio needs to know about a task without importing TensorFlow — the curves it plots
and what the prediction dock does with an image — is its ``profile``
(``cnnstudio.core.families.profile``). No family imports another.
"""
