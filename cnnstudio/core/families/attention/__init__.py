"""The attention family (book chapter 9): the Recurrent Attention Model with its Glimpse
Sensor, and image captioning with soft attention — models, tasks, data and probes.

What it adds to the studio is declared in ``plugin.py``; importing the package imports
nothing else.
"""
