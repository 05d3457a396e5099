"""Label decisions: keep, relabel or exclude a training image, kept BESIDE the dataset and
applied by the next run; the user's image files never change.

    path = decisions_path(config.dataset, runs_root)         # where this dataset's file lives
    decide(path, config.dataset, class_names, key, "relabel", given="3", label="8")
    config.dataset.options["label_decisions"] = str(path)    # the next run applies them

Where the file lives:

- an image folder: ``<folder>/.cnnstudio-labels.json`` (hidden; the folder loader reads only
  class sub-folders), one file for every image size; images are keyed by their path in the
  folder ("cats/cat.17.jpg"), which a reader can check by eye;
- a registered set (digits, mnist-5k, cifar10…), or a folder that cannot be written:
  ``<runs root>/label-decisions/<id>-<hash of its options>.json``; images are keyed by a
  digest of their pixels ("sha1:…"), which stays right whichever images another decision
  excluded.

The file:

    {"version": 1, "dataset": {"id": "digits", "options": {"size": 16}},
     "class_names": ["0", …], "decisions": {"sha1:ab12…": {"action": "relabel",
     "given": "3", "label": "8"}, "cats/c.jpg": {"action": "exclude", "given": "cats"}, …}}

``apply`` leaves the test split alone: it is what the run is measured on, not trained on.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import DataError

FILE_NAME = ".cnnstudio-labels.json"
FOLDER = "label-decisions"          # under the runs root
ACTIONS = ("keep", "relabel", "exclude")
OPTION = "label_decisions"


@dataclass
class Applied:
    relabelled: int = 0
    excluded: int = 0
    kept: int = 0
    missing: int = 0        # decisions about images this dataset no longer has

    def describe(self) -> str:
        text = f"label decisions: {self.relabelled} relabelled, {self.excluded} excluded"
        return text + (f" ({self.missing} about images no longer there)" if self.missing
                       else "")


def dataset_root(dataset_config) -> Path | None:
    """The image folder of a folder dataset, else None."""
    from cnnstudio.core.datasets.base import is_folder_dataset

    options = dataset_config.options or {}
    if dataset_config.id == "folder" and options.get("path"):
        return Path(options["path"]).expanduser()
    if is_folder_dataset(dataset_config.id):
        return Path(dataset_config.id).expanduser()
    return None


def _writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK)


def decisions_path(dataset_config, runs_root) -> Path:
    """This dataset's decisions file: the one its options already name, else inside its
    image folder, else under the runs root keyed by the dataset's id and options."""
    options = dict(dataset_config.options or {})
    named = options.pop(OPTION, None)
    if named:
        return Path(named).expanduser()
    root = dataset_root(dataset_config)
    if root is not None and _writable(root):
        return root / FILE_NAME
    if root is not None:                      # read-only folder: its path is its identity
        options["path"] = str(root.resolve())
    text = json.dumps({"id": dataset_config.id, "options": options}, sort_keys=True)
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    name = "folder" if root is not None else dataset_config.id
    return Path(runs_root).expanduser() / FOLDER / f"{name}-{digest}.json"


def image_keys(split, root: Path | None = None) -> list[str]:
    """A stable name for each image of ``split``: its path in the folder, or its pixels'
    digest when it came from no file."""
    paths = getattr(split, "paths", None)
    if paths is not None:
        keys = []
        for p in paths:
            p = Path(p)
            try:
                keys.append(p.relative_to(root).as_posix() if root else p.as_posix())
            except ValueError:
                keys.append(p.as_posix())
        return keys
    return [pixel_key(image) for image in split.x]


def pixel_key(image: np.ndarray) -> str:
    image = np.ascontiguousarray(image)
    return "sha1:" + hashlib.sha1(str(image.shape).encode() + image.tobytes()).hexdigest()[:20]


# -- the file ---------------------------------------------------------------------------------
def empty(dataset_config, class_names) -> dict:
    options = {k: v for k, v in (dataset_config.options or {}).items() if k != OPTION}
    return {"version": 1, "dataset": {"id": dataset_config.id, "options": options},
            "class_names": [str(n) for n in class_names], "decisions": {}}


def load(path) -> dict:
    """The decisions file, checked: DataError with one line when it is not one."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"label decisions file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"label decisions file {path} cannot be read: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("decisions"), dict):
        raise DataError(f"{path} is not a label decisions file (no 'decisions' object)")
    for key, entry in data["decisions"].items():
        if not isinstance(entry, dict) or entry.get("action") not in ACTIONS:
            raise DataError(f"{path}: the decision about {key} must have an action "
                            f"({', '.join(ACTIONS)})")
        if entry["action"] == "relabel" and not isinstance(entry.get("label"), str):
            raise DataError(f"{path}: relabelling {key} needs the new class in 'label'")
    return data


def save(path, data: dict) -> Path:
    """Write the whole file at once (a temporary name, then renamed)."""
    from cnnstudio.core.atomic import atomic_path

    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temp:
        Path(temp).write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    return path


def decide(path, dataset_config, class_names, key: str, action: str, given: str,
           label: str | None = None) -> dict:
    """Record one decision (replacing an earlier one about the same image); "undo" forgets
    it. Returns the file's contents."""
    if action not in (*ACTIONS, "undo"):
        raise DataError(f"a label decision is one of {', '.join(ACTIONS)}, got {action!r}")
    names = [str(n) for n in class_names]
    if action == "relabel" and label not in names:
        raise DataError(f"relabel needs one of the classes ({', '.join(names)}), got {label!r}")
    path = Path(path).expanduser()
    data = load(path) if path.is_file() else empty(dataset_config, names)
    if action == "undo":
        data["decisions"].pop(key, None)
    else:
        entry = {"action": action, "given": str(given)}
        if action == "relabel":
            entry["label"] = str(label)
        data["decisions"][key] = entry
    save(path, data)
    return data


# -- applying them ----------------------------------------------------------------------------
def apply(dataset, data: dict, root: Path | None = None):
    """(a copy of ``dataset`` with the decisions applied to its training split, Applied)."""
    from cnnstudio.core.datasets.base import ArraySplit, FileSplit

    index = {name: i for i, name in enumerate(dataset.class_names)}
    train = dataset.train
    keys = image_keys(train, root)
    where = {}
    for i, key in enumerate(keys):
        where.setdefault(key, []).append(i)
    y = np.array(train.y, np.int32, copy=True)
    keep = np.ones(len(y), bool)
    done = Applied()
    for key, entry in data["decisions"].items():
        rows = where.get(key)
        label = index.get(entry.get("label")) if entry["action"] == "relabel" else None
        if not rows or (entry["action"] == "relabel" and label is None):
            done.missing += 1
        elif entry["action"] == "exclude":
            keep[rows] = False
            done.excluded += len(rows)
        elif entry["action"] == "relabel":
            y[rows] = label
            done.relabelled += len(rows)
        else:
            done.kept += len(rows)
    picks = np.flatnonzero(keep)
    if isinstance(train, FileSplit):
        split = FileSplit([train.paths[i] for i in picks], y[picks], train.shape)
    else:
        paths = None if train.paths is None else [train.paths[i] for i in picks]
        split = ArraySplit(train.x[picks], y[picks], paths=paths)
    if len(split) == 0:
        raise DataError("the label decisions exclude every training image")
    note = done.describe()
    description = f"{dataset.description} · {note}" if dataset.description else note
    return replace(dataset, train=split, description=description), done


def apply_file(dataset, dataset_config):
    """``load_dataset``'s hook: the decisions file the options name, applied."""
    data = load(dataset_config.options[OPTION])
    return apply(dataset, data, dataset_root(dataset_config))[0]


def decision_of(data: dict | None, key: str) -> dict | None:
    return (data or {}).get("decisions", {}).get(key)
