"""CNN Studio: a desktop studio for seeing convolutional networks learn.

Importing this package imports neither Qt nor TensorFlow; the heavy parts load
on first use so the window (or the CLI's help) appears at once.
"""

__version__ = "0.1.0"
