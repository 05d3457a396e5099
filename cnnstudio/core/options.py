"""Options declared once: what an architecture's or a dataset's option is, as data.

    Int("units", 512, 1, 8192, "units per hidden layer")
    Float("r1", 0.0, 0.0, 1000.0, "R1 penalty weight γ", step=0.5)
    Choice("core", "lstm", ("lstm", "rnn"), "the core network")
    Bool("batch_norm", True, "batch normalisation after each layer")

Every reader takes its facts from the spec: the options form (editor, range, step,
tooltip), ``RunConfig.problems()`` (one sentence per bad value, before training), the
architecture's build (values checked and filled in before the builder sees them) and
the docs' option tables. No family repeats a range or a list of choices.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OptionSpec:
    name: str
    kind: str                       # "int", "float", "bool", "choice", "text"
    default: Any                    # None: unset, the source decides (dataset options)
    help: str = ""
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()
    unit: str = ""
    decimals: int = 3
    rebuild: bool = True            # a change needs a freshly built model
    hidden: bool = False            # set by the studio (a folder path), not a form row
    editable: bool = False          # a choice that also takes other text (a pretrained base)

    def problem(self, value: Any) -> str | None:
        """One sentence saying what is wrong with ``value``, or None when it is fine."""
        if value is None and self.default is None:
            return None
        if self.kind == "bool":
            return None if isinstance(value, bool) else \
                f"{self.name} must be true or false, got {value!r}"
        if self.kind == "choice":
            if value in self.choices or (self.editable and isinstance(value, str) and value):
                return None
            names = [str(c) for c in self.choices]
            close = difflib.get_close_matches(str(value), names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return f"{self.name} must be one of {', '.join(names)}, got {value!r}{hint}"
        if self.kind == "text":
            return None if isinstance(value, str) else \
                f"{self.name} must be text, got {value!r}"
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if self.kind == "int" and not is_int:
            return f"{self.name} must be an integer{self._range()}, got {value!r}"
        if self.kind == "float" and not (
                (is_int or isinstance(value, float)) and math.isfinite(value)):
            return f"{self.name} must be a number{self._range()}, got {value!r}"
        if (self.low is not None and value < self.low) or \
                (self.high is not None and value > self.high):
            what = "an integer" if self.kind == "int" else "a number"
            return f"{self.name} must be {what}{self._range()}, got {value!r}"
        return None

    def _range(self) -> str:
        if self.low is None and self.high is None:
            return ""
        if self.high is None:
            return f" of at least {_number(self.low)}"
        if self.low is None:
            return f" of at most {_number(self.high)}"
        return f" between {_number(self.low)} and {_number(self.high)}"

    def coerce(self, value: Any) -> Any:
        """A float option given as an int (JSON's 2 for 2.0) becomes a float."""
        if self.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value

    def describe(self) -> str:
        """The allowed values in words (docs tables, ``cnnstudio models --options``)."""
        if self.kind == "choice":
            return " | ".join(map(str, self.choices)) + (" | …" if self.editable else "")
        if self.kind == "bool":
            return "true | false"
        return self._range().strip().removeprefix("between ") or self.kind


def _number(x: float) -> str:
    """10000000 → "10,000,000"; 0.9999 stays 0.9999 (not 1e+07 or 0.9999000001)."""
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def Int(name, default, low, high, help="", *, step=1, unit="", rebuild=True,  # noqa: N802
        hidden=False) -> OptionSpec:
    return OptionSpec(name, "int", default, help, low, high, step, unit=unit, rebuild=rebuild,
                      hidden=hidden)


def Float(name, default, low, high, help="", *, step=0.05, decimals=3, unit="",  # noqa: N802
          rebuild=True) -> OptionSpec:
    return OptionSpec(name, "float", default, help, low, high, step, unit=unit,
                      decimals=decimals, rebuild=rebuild)


def Bool(name, default, help="", *, rebuild=True) -> OptionSpec:  # noqa: N802
    return OptionSpec(name, "bool", default, help, rebuild=rebuild)


def Choice(name, default, choices, help="", *, editable=False, rebuild=True) -> OptionSpec:  # noqa: N802
    return OptionSpec(name, "choice", default, help, choices=tuple(choices), editable=editable,
                      rebuild=rebuild)


def Text(name, default, help="", *, hidden=False) -> OptionSpec:  # noqa: N802
    return OptionSpec(name, "text", default, help, hidden=hidden)


@dataclass
class OptionSet:
    """An entry's options in order, with the checks every reader shares."""
    specs: tuple[OptionSpec, ...] = field(default_factory=tuple)

    def __post_init__(self):
        self.specs = tuple(self.specs)
        self.by_name = {s.name: s for s in self.specs}

    @property
    def defaults(self) -> dict[str, Any]:
        return {s.name: s.default for s in self.specs}

    @property
    def help(self) -> dict[str, str]:
        return {s.name: s.help for s in self.specs}

    def problems(self, given: dict[str, Any] | None, owner: str) -> list[str]:
        """One sentence per unknown option or bad value of ``given``."""
        if given is None:
            return []
        if not isinstance(given, dict):
            return [f"options of '{owner}' must be an object"]
        found = []
        for name, value in given.items():
            spec = self.by_name.get(name)
            if spec is None:
                known = ", ".join(self.by_name) or "none"
                found.append(f"unknown option '{name}' for {owner} — known: {known}")
            elif (problem := spec.problem(value)) is not None:
                found.append(f"{owner}: {problem}")
        return found

    def resolve(self, given: dict[str, Any] | None) -> dict[str, Any]:
        """Defaults filled in, floats as floats (no check: call ``problems`` first)."""
        given = dict(given or {})
        return {s.name: s.coerce(given.get(s.name, s.default)) for s in self.specs
                if s.name in given or s.default is not None}


def require(spec: OptionSpec, value: Any) -> Any:
    """``value`` if its spec allows it (coerced), else a ModelError with the spec's sentence.

    For a Keras model's ``__init__``, the path a saved ``.keras`` file's config takes: the
    same check as the form and the config, from the same spec."""
    from cnnstudio.core.errors import ModelError

    problem = spec.problem(value)
    if problem is not None:
        raise ModelError(problem)
    return spec.coerce(value)
