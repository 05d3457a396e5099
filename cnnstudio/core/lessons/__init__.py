"""Lessons that play themselves: the file format, its check, and where lessons live.

No Qt here: the player is ``cnnstudio.gui.lessons``. See docs/lessons.md for the schema.
"""

from __future__ import annotations

from cnnstudio.core.lessons.lesson import (
    Lesson,
    LessonError,
    LessonInfo,
    Step,
    lessons_dir,
    list_lessons,
    load_lesson,
    save_step,
    save_steps,
    validate,
)
from cnnstudio.core.lessons.schema import DOCKS, KINDS

__all__ = ["DOCKS", "KINDS", "Lesson", "LessonError", "LessonInfo", "Step", "lessons_dir",
           "list_lessons", "load_lesson", "save_step", "save_steps", "validate"]
