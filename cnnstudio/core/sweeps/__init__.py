"""Sweeps: many runs of one RunConfig with some settings varied, run in parallel on Ray.

Each trial is a normal run directory (it opens, resumes and compares like any run)
holding a ``sweep.json`` tag: the sweep's id, the trial's number and its settings.
"""
