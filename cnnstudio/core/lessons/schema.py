"""What a lesson file may say, and the one-line sentence for each thing it gets wrong.

A lesson is JSON: ``{"title": …, "chapter": N, "scale": 1.75, "steps": [{"do": KIND, …}]}``.
Each step kind declares its fields once (``KINDS``); ``step_problems`` checks a step
against them and words every mistake as ``'<field>' must be …, got <value>``. The file's
name, the step's number and its kind are put in front by ``validate`` (see lesson.py).
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnstudio.core.presets import did_you_mean

DOCKS = ("dataset", "architecture", "training", "augmentation", "prediction", "runs")
MAX_EPOCHS = 1000
MAX_WAIT_SECONDS = 600
SCALE_RANGE = (1.0, 2.5)
SKIMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".tif")
SET_PARTS = ("training", "dataset", "model")

# A value → what is wrong with it (or that and a did-you-mean hint), or None.
Check = Callable[[Any], str | tuple[str, str] | None]


def show(value: Any) -> str:
    """A value as the file wrote it (JSON), short enough for one line."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def whole(low: int, high: int) -> Check:
    def check(value):
        if not _is_whole(value) or value < low:
            return f"must be a whole number ≥ {low}"
        return None if value <= high else f"must be at most {high}"
    return check


def number(low: float, high: float, low_open: bool = False) -> Check:
    def check(value):
        if _is_number(value) and (value > low if low_open else value >= low) and value <= high:
            return None
        if low_open:
            return f"must be a number above {low:g} and at most {high:g}"
        return f"must be a number from {low:g} to {high:g}"
    return check


def text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be text (not empty)"


def caption_text(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be text"


def true_only(value: Any) -> str | None:
    return None if value is True else "must be true (a click on Next ends the wait)"


def choice(names: tuple[str, ...]) -> Check:
    def check(value):
        if value in names:
            return None
        return f"must be one of {', '.join(names)}", did_you_mean(str(value), list(names))
    return check


def object_(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be an object ({…})"


@dataclass(frozen=True)
class Kind:
    name: str
    required: dict[str, Check]
    optional: dict[str, Check]
    one_of: tuple[str, ...] = ()      # exactly one of these optional fields must be given
    help: str = ""

    @property
    def fields(self) -> tuple[str, ...]:
        return (*self.required, *self.optional, "caption")


KINDS: dict[str, Kind] = {k.name: k for k in (
    # A preset's parts may be overridden before it reaches the window (a download-only
    # dataset swapped for an offline one is never started loading).
    Kind("preset", {"preset": text}, {p: object_ for p in SET_PARTS},
         help="load a preset into the pickers"),
    Kind("set", {}, {p: object_ for p in SET_PARTS}, help="override parts of the config"),
    Kind("tab", {"tab": text}, {}, help="bring a centre tab forward"),
    Kind("dock", {"dock": choice(DOCKS)}, {}, help="show and raise a dock"),
    Kind("train", {"epochs": whole(1, MAX_EPOCHS)}, {}, help="train and wait until finished"),
    Kind("epoch", {"epoch": whole(1, 100_000)}, {}, help="move the epoch slider"),
    Kind("image", {"image": text}, {}, help="drop an image into the prediction dock"),
    Kind("wait", {}, {"seconds": number(0, MAX_WAIT_SECONDS, low_open=True), "click": true_only},
         one_of=("seconds", "click"), help="pause for seconds or until Next"),
    Kind("caption", {"caption": text}, {}, help="show a caption only"),
)}


def step_problems(step: Any, base_dir: Path | None) -> tuple[str, list[str]]:
    """(the step's kind as written, one sentence per mistake in it)."""
    if not isinstance(step, dict):
        return "?", [f"a step must be an object ({{\"do\": …}}), got {show(step)}"]
    kind_name = step.get("do")
    if kind_name is None:
        return "?", [f"'do' is missing — one of {', '.join(KINDS)}"]
    if not isinstance(kind_name, str) or kind_name not in KINDS:
        shown = kind_name if isinstance(kind_name, str) else show(kind_name)
        return shown, [f"unknown step kind {show(kind_name)}"
                       f"{did_you_mean(str(kind_name), list(KINDS))} — known: {', '.join(KINDS)}"]
    kind = KINDS[kind_name]
    found = []
    for name in step:
        if name != "do" and name not in kind.fields:
            article = "an" if kind_name[0] in "aeiou" else "a"
            found.append(f"unknown field '{name}'{did_you_mean(name, list(kind.fields))}"
                         f" — {article} {kind_name} step takes: {', '.join(kind.fields)}")
    for name in kind.required:
        if name not in step:
            found.append(f"'{name}' is missing")
    checks = {**kind.required, **kind.optional, "caption": caption_text}
    for name, check in checks.items():
        if name in step and (problem := check(step[name])) is not None:
            problem, hint = problem if isinstance(problem, tuple) else (problem, "")
            found.append(f"'{name}' {problem}, got {show(step[name])}{hint}")
    if kind.one_of and sum(name in step for name in kind.one_of) != 1:
        found.append(f"give exactly one of {' or '.join(repr(n) for n in kind.one_of)}")
    if kind_name == "set" or (kind_name == "preset" and any(p in step for p in SET_PARTS)):
        found.extend(set_shape_problems(step))
    if kind_name == "image" and not found:
        found.extend(image_problems(step["image"], base_dir))
    return kind_name, found


def set_shape_problems(step: dict) -> list[str]:
    """The parts of a ``set`` step: what it may name, before the values are checked."""
    from dataclasses import fields as dc_fields

    from cnnstudio.core.config import TrainConfig

    parts = [p for p in SET_PARTS if p in step]
    if not parts:
        return [f"a set step needs at least one of {', '.join(SET_PARTS)}"]
    found = []
    training = step.get("training")
    if isinstance(training, dict):
        names = [f.name for f in dc_fields(TrainConfig)]
        for name in training:
            if name not in names:
                found.append(f"'training' has an unknown field '{name}'"
                             f"{did_you_mean(name, names)}")
    for part in ("dataset", "model"):
        value = step.get(part)
        if not isinstance(value, dict) or "id" not in value:
            continue
        # {"id": …, "options": {…}} switches the dataset or model; else: options to change.
        if not isinstance(value["id"], str) or not value["id"]:
            found.append(f"'{part}.id' must be text, got {show(value['id'])}")
        for name in value:
            if name not in ("id", "options"):
                found.append(f"'{part}' has an unknown field '{name}' — with an 'id' it "
                             "takes: id, options")
        if "options" in value and not isinstance(value["options"], dict):
            found.append(f"'{part}.options' must be an object, got {show(value['options'])}")
    return found


def skimage_data_dir() -> Path | None:
    """scikit-image's bundled photos, found without importing it (seconds)."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def skimage_photo(name: str) -> Path | None:
    folder = skimage_data_dir()
    if folder is None:
        return None
    for suffix in SKIMAGE_SUFFIXES:
        if (folder / f"{name}{suffix}").is_file():
            return folder / f"{name}{suffix}"
    return None


def skimage_names() -> list[str]:
    folder = skimage_data_dir()
    if folder is None or not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir() if p.suffix.lower() in SKIMAGE_SUFFIXES)


def image_problems(spec: str, base_dir: Path | None) -> list[str]:
    """An image a step drops: a file beside the lesson, ``skimage:NAME`` or ``sample:CLASS``."""
    if spec.startswith("skimage:"):
        name = spec.removeprefix("skimage:")
        if skimage_photo(name) is None:
            names = skimage_names()
            return [f"'image' names no scikit-image photo '{name}'"
                    f"{did_you_mean(name, names)} — known: {', '.join(names) or 'none'}"]
        return []
    if spec.startswith("sample:"):
        return [] if spec.removeprefix("sample:").strip() else [
            "'image' must name a class after 'sample:', got \"sample:\""]
    path = Path(spec).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        return [f"'image' file not found: {spec} (looked for {path})"]
    return []


def resolve_image(spec: str, base_dir: Path | None) -> tuple[str, Any]:
    """("file", Path) | ("skimage", Path) | ("sample", class name) for a checked spec."""
    if spec.startswith("skimage:"):
        return "skimage", skimage_photo(spec.removeprefix("skimage:"))
    if spec.startswith("sample:"):
        return "sample", spec.removeprefix("sample:").strip()
    path = Path(spec).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return "file", path
