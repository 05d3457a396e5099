"""Lessons in the window: the player that drives it step by step, the lesson bar, and the
actions the menus call (open a lesson, add the window's state as steps).

The lesson format and its check are Qt-free: ``cnnstudio.core.lessons``.
"""
