"""Presenter mode (issue 28): the studio full screen in front of a class, a lesson's
captions and steps at the bottom. ``install(window)`` sets ``window.presenter``."""

from __future__ import annotations

from cnnstudio.gui.presenter.presenter import DEFAULT_SCALE, SCALES, Presenter

__all__ = ["DEFAULT_SCALE", "SCALES", "Presenter", "install"]


def install(window) -> Presenter:
    window.presenter = Presenter(window)
    return window.presenter
