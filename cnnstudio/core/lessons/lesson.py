"""Lessons: load, list, check and extend lesson files (JSON), without Qt.

    lesson = load_lesson("chapter4")              # a shipped key, a unique prefix, or a path
    for step in lesson.steps: step.kind, step.fields, step.caption
    save_step("my-lesson.json", {"do": "tab", "tab": "Filters"})   # appended, checked, atomic

Every mistake in a file is one line naming the file, the step (1-based), its kind and
the field: ``chapter4.json step 3 (train): 'epochs' must be a whole number ≥ 1, got "two"``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import StudioError
from cnnstudio.core.lessons import schema
from cnnstudio.core.lessons.configs import apply_part
from cnnstudio.core.presets import did_you_mean, preset_keys, presets_dir, resources_dir

TOP_FIELDS = ("title", "chapter", "scale", "steps")


class LessonError(StudioError):
    """A lesson file that cannot play; ``problems`` holds one line per mistake."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class Step:
    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    caption: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {"do": self.kind, **self.fields}
        if self.caption:
            out["caption"] = self.caption
        return out


@dataclass
class Lesson:
    title: str
    chapter: int | None
    scale: float | None
    steps: list[Step]
    path: Path | None = None

    def tabs_used(self) -> set[str]:
        return {s.fields["tab"] for s in self.steps if s.kind == "tab"}

    def docks_used(self) -> set[str]:
        """The docks a presenter keeps: those a step shows, the prediction dock when an
        image is dropped into it."""
        docks = {s.fields["dock"] for s in self.steps if s.kind == "dock"}
        if any(s.kind == "image" for s in self.steps):
            docks.add("prediction")
        return docks

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title}
        if self.chapter is not None:
            out["chapter"] = self.chapter
        if self.scale is not None:
            out["scale"] = self.scale
        out["steps"] = [s.to_dict() for s in self.steps]
        return out


@dataclass
class LessonInfo:
    key: str            # the file's stem: what --lesson takes
    title: str
    chapter: int | None
    path: Path
    steps: int


def lessons_dir() -> Path:
    return resources_dir() / "lessons"


# -- checking -------------------------------------------------------------------------------
def validate(data: Any, name: str, base_dir: Path | None = None) -> Lesson:
    """The lesson ``data`` (parsed JSON) describes, or a LessonError listing every mistake."""
    if not isinstance(data, dict):
        raise LessonError([f"{name}: a lesson must be a JSON object "
                           f"({{\"title\": …, \"steps\": […]}}), got {schema.show(data)}"])
    found = [f"{name}: unknown field '{k}'{did_you_mean(k, list(TOP_FIELDS))} — a lesson "
             f"takes: {', '.join(TOP_FIELDS)}" for k in data if k not in TOP_FIELDS]
    title = data.get("title")
    if "title" not in data:
        found.append(f"{name}: 'title' is missing")
    elif schema.text(title):
        found.append(f"{name}: 'title' must be text (not empty), got {schema.show(title)}")
    chapter = data.get("chapter")
    if chapter is not None and schema.whole(0, 99)(chapter):
        found.append(f"{name}: 'chapter' must be a whole number from 0 to 99, "
                     f"got {schema.show(chapter)}")
    scale = data.get("scale")
    low, high = schema.SCALE_RANGE
    if scale is not None and schema.number(low, high)(scale):
        found.append(f"{name}: 'scale' must be a number from {low:g} to {high:g}, "
                     f"got {schema.show(scale)}")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        found.append(f"{name}: 'steps' must be a list of at least one step, "
                     f"got {schema.show(raw_steps)}")
        raw_steps = []
    steps = []
    step_found: list[tuple[int, str]] = []
    for number, raw in enumerate(raw_steps, 1):
        kind, problems = schema.step_problems(raw, base_dir)
        step_found.extend((number, f"{name} step {number} ({kind}): {p}") for p in problems)
        if not problems:
            fields = {k: v for k, v in raw.items() if k not in ("do", "caption")}
            steps.append(Step(kind, fields, raw.get("caption", "")))
        else:
            steps.append(None)
    step_found.extend(_config_problems(steps, name))
    found.extend(line for _, line in sorted(step_found, key=lambda pair: pair[0]))
    if found:
        raise LessonError(found)
    return Lesson(title.strip(), chapter, float(scale) if scale is not None else None, steps)


def _config_problems(steps: list[Step | None], name: str) -> list[tuple[int, str]]:
    """Follow the config through the preset and set steps: a preset that does not exist,
    or a value a set step makes invalid, is named at that step."""
    from cnnstudio.core.config import RunConfig
    from cnnstudio.core.presets import find_preset

    if not any(s is not None and s.kind in ("preset", "set") for s in steps):
        return []
    found = []
    config = RunConfig()        # the window's own default until a preset says otherwise
    before = set(config.problems())
    for number, step in enumerate(steps, 1):
        if step is None:
            continue
        where = f"{name} step {number} ({step.kind})"
        if step.kind == "preset":
            key = step.fields["preset"]
            try:
                config = find_preset(key).config()
            except StudioError:
                keys = preset_keys()
                found.append((number, f"{where}: 'preset' names no preset '{key}'"
                                      f"{did_you_mean(key, keys)} (presets are in "
                                      f"{presets_dir()})"))
                continue
            before = set(config.problems())
        if step.kind in ("set", "preset"):
            for part in ("dataset", "model", "training"):
                if part not in step.fields:
                    continue
                config = apply_part(config, part, step.fields[part])
                now = config.problems()
                found.extend((number, f"{where}: '{part}': {p}") for p in now if p not in before)
                before = set(now)
    return found


# -- files ------------------------------------------------------------------------------------
def read_lesson_file(path: Path) -> Lesson:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LessonError([f"lesson file not found: {path}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LessonError([f"{path.name}: cannot be read: {exc}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LessonError([f"{path.name}: not valid JSON: {exc.msg} at line {exc.lineno} "
                           f"column {exc.colno}"]) from None
    lesson = validate(data, path.name, path.resolve().parent)
    lesson.path = path
    return lesson


def shipped_paths() -> list[Path]:
    folder = lessons_dir()
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def load_lesson(path_or_key: str | Path) -> Lesson:
    """A lesson file by path, or a shipped lesson by key (``chapter4-lenet``) or by a
    prefix only one key has (``chapter4``)."""
    path = Path(path_or_key).expanduser()
    if path.is_file():
        return read_lesson_file(path)
    key = str(path_or_key)
    if path.suffix == ".json" or "/" in key or "\\" in key:
        raise LessonError([f"lesson file not found: {path}"])
    keys = {p.stem: p for p in shipped_paths()}
    if key in keys:
        return read_lesson_file(keys[key])
    matches = [k for k in keys if k.startswith(key + "-") or k.startswith(key)]
    if len(matches) == 1:
        return read_lesson_file(keys[matches[0]])
    known = ", ".join(keys) or f"none found in {lessons_dir()}"
    what = "matches several lessons" if matches else "is no lesson"
    raise LessonError([f"'{key}' {what}{did_you_mean(key, list(keys))} — known: {known}"])


def list_lessons() -> list[LessonInfo]:
    """The shipped lessons, by chapter; a broken file is left out (the menu stays up)."""
    found = []
    for path in shipped_paths():
        try:
            lesson = read_lesson_file(path)
        except StudioError:
            continue
        found.append(LessonInfo(path.stem, lesson.title, lesson.chapter, path,
                                len(lesson.steps)))
    return sorted(found, key=lambda i: (i.chapter if i.chapter is not None else 99, i.key))


def lesson_json(data: dict[str, Any]) -> str:
    """A lesson as a person would write it: one line per step, easy to edit by hand."""
    head = {k: v for k, v in data.items() if k != "steps"}
    lines = ["{"]
    for key, value in head.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
    lines.append('  "steps": [')
    steps = [json.dumps(s, ensure_ascii=False) for s in data.get("steps", [])]
    lines.extend(f"    {s}{',' if i < len(steps) - 1 else ''}" for i, s in enumerate(steps))
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


def save_steps(path: str | Path, steps: list[dict[str, Any]], title: str | None = None) -> Lesson:
    """Append ``steps`` to the lesson at ``path`` (a new lesson titled ``title`` or after the
    file's name when there is none yet). The whole lesson is checked first: a step that
    would break it raises LessonError and the file is left as it was."""
    from cnnstudio.core.atomic import write_text

    path = Path(path)
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            read_lesson_file(path)          # raises the one-line reason
            raise
        if not isinstance(data, dict):
            validate(data, path.name)       # raises
        data = dict(data)
        data["steps"] = [*(data.get("steps") or []), *steps]
    else:
        data = {"title": title or path.stem.replace("-", " ").replace("_", " ").capitalize(),
                "steps": list(steps)}
    lesson = validate(data, path.name, path.resolve().parent)
    write_text(path, lesson_json(data))
    lesson.path = path
    return lesson


def save_step(path: str | Path, step: dict[str, Any]) -> Lesson:
    return save_steps(path, [step])
