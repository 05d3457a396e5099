"""The Haar cascades OpenCV ships, and what one is made of, read from its XML.

    path = cascade_path("frontalface")        # a short name, a file stem, or an .xml path
    cascade = read_cascade(path)
    cascade.window                             # (24, 24): the detector's base window (w, h)
    len(cascade.stages)                        # 25 for frontalface_default
    [s.weak_count for s in cascade.stages]     # 9, 16, 27, … weak classifiers per stage
    cascade.stage_features(0)                  # the first stage's Haar features (rectangles)

A Viola-Jones cascade is a chain of boosted stages. Each weak classifier is a tiny
decision tree (usually a stump) over one Haar feature: a weighted sum of 2–3 rectangle
sums, normalised by the window's standard deviation. A stage adds its weak classifiers'
leaf values and rejects the window when the sum is under the stage threshold, so most
windows leave after a handful of features and only faces pay for all stages.

Both XML layouts OpenCV 4 loads are read: the current one (``opencv-cascade-classifier``,
features listed once and referenced by index) and the old one (``opencv-haar-classifier``,
each tree node holding its own feature; the Russian-plate cascade still uses it).
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from cnnstudio.core.errors import StudioError

# Short names a user types (CLI --haar, the tab's picker) → the file stem in cv2.data,
# with the label its detections get.
ALIASES: dict[str, tuple[str, str]] = {
    "frontalface": ("frontalface_default", "face"),
    "face": ("frontalface_default", "face"),
    "eye": ("eye", "eye"),
    "eyes": ("eye", "eye"),
    "smile": ("smile", "smile"),
    "fullbody": ("fullbody", "person"),
    "body": ("fullbody", "person"),
    "upperbody": ("upperbody", "upper body"),
    "lowerbody": ("lowerbody", "lower body"),
    "profileface": ("profileface", "face (profile)"),
    "catface": ("frontalcatface", "cat face"),
    "cat": ("frontalcatface", "cat face"),
    "plate": ("russian_plate_number", "licence plate"),
}


@dataclass(frozen=True)
class HaarFeature:
    rects: tuple[tuple[int, int, int, int, float], ...]   # (x, y, w, h, weight) in the window
    tilted: bool = False                                    # rectangles rotated by 45°


@dataclass(frozen=True)
class WeakClassifier:
    # One tree node per entry: (left, right, feature index, threshold). A child ≤ 0 is a
    # leaf, ``leaves[-child]``; a stump is one node with children 0 and -1.
    nodes: tuple[tuple[int, int, int, float], ...]
    leaves: tuple[float, ...]


@dataclass(frozen=True)
class Stage:
    threshold: float
    weak: tuple[WeakClassifier, ...]

    @property
    def weak_count(self) -> int:
        return len(self.weak)


@dataclass(frozen=True)
class Cascade:
    name: str
    window: tuple[int, int]            # (width, height) of the base window
    stages: tuple[Stage, ...]
    features: tuple[HaarFeature, ...]
    layout: str                        # "current" or "old" XML layout

    @property
    def stumps_only(self) -> bool:
        return all(len(w.nodes) == 1 for s in self.stages for w in s.weak)

    @property
    def tilted_features(self) -> int:
        return sum(f.tilted for f in self.features)

    def stage_features(self, stage: int) -> list[HaarFeature]:
        """The features a stage's weak classifiers look at, in order (repeats kept)."""
        return [self.features[node[2]] for w in self.stages[stage].weak for node in w.nodes]

    def summary(self) -> dict:
        return {"name": self.name, "window": list(self.window), "stages": len(self.stages),
                "weak_per_stage": [s.weak_count for s in self.stages],
                "features": len(self.features), "tilted_features": self.tilted_features,
                "stumps_only": self.stumps_only, "layout": self.layout}


def cascades_dir() -> Path:
    import cv2

    return Path(cv2.data.haarcascades)


def shipped() -> dict[str, Path]:
    """Every cascade file OpenCV ships, by file stem without ``haarcascade_``."""
    folder = cascades_dir()
    return {p.stem.removeprefix("haarcascade_"): p
            for p in sorted(folder.glob("haarcascade_*.xml"))}


def cascade_label(name: str) -> str:
    """What a detection of this cascade is called ("face", "eye", …)."""
    stem = Path(name).stem.removeprefix("haarcascade_")
    if name in ALIASES:
        return ALIASES[name][1]
    for file_stem, label in ALIASES.values():
        if file_stem == stem:
            return label
    return stem.replace("_", " ")


def cascade_path(name: str) -> Path:
    """A short name ("frontalface"), a shipped file stem ("frontalface_alt2") or a path."""
    files = shipped()
    stem = ALIASES.get(name, (name, ""))[0].removeprefix("haarcascade_").removesuffix(".xml")
    if stem in files:
        return files[stem]
    path = Path(name).expanduser()
    if path.suffix.lower() == ".xml" and path.is_file():
        return path
    known = ", ".join(sorted(set(ALIASES) | set(files)))
    raise StudioError(f"unknown Haar cascade '{name}' — known: {known} (or a cascade .xml file)")


@functools.lru_cache(maxsize=16)
def read_cascade(path: str | Path) -> Cascade:
    """Parse a cascade XML into stages, weak classifiers and Haar features."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise StudioError(f"cannot read the cascade {path.name}: {exc}") from None
    top = root[0] if len(root) else None
    if top is None:
        raise StudioError(f"cannot read the cascade {path.name}: the XML is empty")
    name = path.stem.removeprefix("haarcascade_")
    try:
        if top.find("stages") is not None and top.find("features") is not None:
            return _read_current(top, name)
        if top.find("stages") is not None and top.find("size") is not None:
            return _read_old(top, name)
    except (AttributeError, ValueError, IndexError) as exc:
        raise StudioError(f"cannot read the cascade {path.name}: malformed ({exc})") from None
    raise StudioError(f"{path.name} is not a Haar cascade (no stages and features found)")


def _numbers(text: str | None) -> list[float]:
    return [float(v) for v in (text or "").split()]


def _feature(node: ET.Element) -> HaarFeature:
    rects = []
    for r in node.find("rects"):
        x, y, w, h, weight = _numbers(r.text)
        rects.append((int(x), int(y), int(w), int(h), float(weight)))
    return HaarFeature(tuple(rects), (node.findtext("tilted") or "0").strip() == "1")


def _read_current(top: ET.Element, name: str) -> Cascade:
    if (top.findtext("featureType") or "HAAR").strip() != "HAAR":
        raise ValueError("only HAAR feature cascades are read here")
    window = (int(top.findtext("width")), int(top.findtext("height")))
    stages = []
    for stage in top.find("stages"):
        weak = []
        for w in stage.find("weakClassifiers"):
            values = _numbers(w.findtext("internalNodes"))
            nodes = tuple((int(values[i]), int(values[i + 1]), int(values[i + 2]), values[i + 3])
                          for i in range(0, len(values), 4))
            weak.append(WeakClassifier(nodes, tuple(_numbers(w.findtext("leafValues")))))
        stages.append(Stage(float(stage.findtext("stageThreshold")), tuple(weak)))
    features = tuple(_feature(f) for f in top.find("features"))
    return Cascade(name, window, tuple(stages), features, "current")


def _read_old(top: ET.Element, name: str) -> Cascade:
    w, h = (int(v) for v in top.findtext("size").split())
    features: list[HaarFeature] = []
    stages = []
    for stage in top.find("stages"):
        weak = []
        for tree in stage.find("trees"):
            nodes, leaves = [], []
            for node in tree:
                children = []
                for side in ("left", "right"):
                    if node.find(f"{side}_val") is not None:
                        leaves.append(float(node.findtext(f"{side}_val")))
                        children.append(-(len(leaves) - 1))
                    else:
                        children.append(int(node.findtext(f"{side}_node")))
                features.append(_feature(node.find("feature")))
                nodes.append((children[0], children[1], len(features) - 1,
                              float(node.findtext("threshold"))))
            weak.append(WeakClassifier(tuple(nodes), tuple(leaves)))
        stages.append(Stage(float(stage.findtext("stage_threshold")), tuple(weak)))
    return Cascade(name, (w, h), tuple(stages), tuple(features), "old")
