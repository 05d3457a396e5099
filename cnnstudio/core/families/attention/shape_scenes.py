"""``shape-scenes``: 64×64 pictures of 1–3 coloured shapes and the sentence that describes each.

    scenes = generate(1000, seed=0)           # images uint8 (N, 64, 64, 3), captions, objects
    scenes.captions[0]   → "a red circle above a small blue square"
    parse(scenes.captions[0])                 # the noun phrases and relations, back again
    describes(scenes.captions[0], scene_objects(scenes.objects[0]))   → True

The grammar (book chapter 9's captioning on a world small enough to check every word):

    caption  = phrase (relation phrase)*
    phrase   = "a" ["small"] colour shape          (a large shape has no size word)
    relation = "above" | "to the left of"

Objects sit on a coarse 3×3 grid and are named in reading order (top row first, left to
right), so each scene has exactly one caption: two neighbours in that order are either in
different rows ("above") or in the same row ("to the left of"). Every object keeps its
box, so a word of a caption maps back to a place in the picture (the captioning
benchmark's attention hit rate). Deterministic: the same seed draws the same scenes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from cnnstudio.core.errors import DataError

SIDE = 64
GRID = 3
CENTRES = (11, 32, 53)                    # pixel centre of each grid row / column
COLOURS = {"red": (225, 45, 45), "green": (45, 190, 70), "blue": (60, 110, 245),
           "yellow": (235, 215, 45), "purple": (170, 70, 215)}
SHAPES = ("circle", "square", "triangle")
SIZES = ("small", "large")
RADIUS = {"small": 5, "large": 9}
BACKGROUND = (22, 22, 26)
RELATIONS = ("above", "to the left of")
MAX_OBJECTS = 3

SPECIALS = ("<pad>", "<start>", "<end>", "<unk>")
PAD, START, END, UNK = range(4)
VOCAB = (*SPECIALS, "a", "small", *COLOURS, *SHAPES, "above", "to", "the", "left", "of")
# The longest caption: three small shapes joined by "to the left of" twice (4+4+4+4+4 words).
MAX_WORDS = 4 * MAX_OBJECTS + 4 * (MAX_OBJECTS - 1)
# Objects as rows of ints (−1 rows pad scenes with fewer than three shapes).
FIELDS = ("shape", "colour", "size", "row", "col", "x0", "y0", "x1", "y1")


@dataclass(frozen=True)
class SceneObject:
    shape: str
    colour: str
    size: str
    row: int
    col: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1), inclusive pixel bounds of what is drawn."""
        cx, cy, h = CENTRES[self.col], CENTRES[self.row], _half_side(self)
        return cx - h, cy - h, cx + h, cy + h

    @property
    def phrase(self) -> str:
        size = "small " if self.size == "small" else ""
        return f"a {size}{self.colour} {self.shape}"

    def as_row(self) -> list[int]:
        return [SHAPES.index(self.shape), list(COLOURS).index(self.colour),
                SIZES.index(self.size), self.row, self.col, *self.box]


def _half_side(obj: SceneObject) -> int:
    r = RADIUS[obj.size]
    return round(r * 0.85) if obj.shape == "square" else r   # similar areas for all three


def scene_objects(rows) -> list[SceneObject]:
    """The objects of one scene from its (3, 9) int rows (padding rows are −1)."""
    out = []
    for row in np.asarray(rows):
        if row[0] < 0:
            continue
        out.append(SceneObject(SHAPES[row[0]], list(COLOURS)[row[1]], SIZES[row[2]],
                               int(row[3]), int(row[4])))
    return out


def reading_order(objects) -> list[SceneObject]:
    return sorted(objects, key=lambda o: (o.row, o.col))


def draw_scene(objects, side: int = SIDE) -> np.ndarray:
    """uint8 (side, side, 3) picture of the objects on the dark background."""
    import cv2

    image = np.empty((SIDE, SIDE, 3), np.uint8)
    image[:] = BACKGROUND
    for obj in objects:
        x0, y0, x1, y1 = obj.box
        colour = COLOURS[obj.colour]
        if obj.shape == "circle":
            cv2.circle(image, ((x0 + x1) // 2, (y0 + y1) // 2), (x1 - x0) // 2, colour, -1,
                       cv2.LINE_AA)
        elif obj.shape == "square":
            cv2.rectangle(image, (x0, y0), (x1, y1), colour, -1)
        else:
            points = np.array([[(x0 + x1) // 2, y0], [x0, y1], [x1, y1]], np.int32)
            cv2.fillPoly(image, [points], colour, cv2.LINE_AA)
    if side != SIDE:
        image = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)
    return image


# -- captions ----------------------------------------------------------------------------
def caption(objects) -> str:
    """The one sentence the grammar gives these objects (named in reading order)."""
    objs = reading_order(objects)
    if not objs:
        raise DataError("a scene needs at least one shape to be described")
    words = [objs[0].phrase]
    for a, b in zip(objs, objs[1:], strict=False):
        words += [RELATIONS[0] if a.row < b.row else RELATIONS[1], b.phrase]
    return " ".join(words)


_PHRASE = re.compile(r"a (small )?(" + "|".join(COLOURS) + ") (" + "|".join(SHAPES) + ")")
_RELATION = re.compile(" (above|to the left of) ")


@dataclass
class Parsed:
    phrases: list[tuple[str, str, str]]     # (size, colour, shape) in the caption's order
    relations: list[str]


def parse(text: str) -> Parsed | None:
    """The phrases and relations of a caption, or None if it is not in the grammar."""
    parts = _RELATION.split(text.strip())
    phrases, relations = [], []
    for i, part in enumerate(parts):
        if i % 2:
            relations.append(part)
            continue
        match = _PHRASE.fullmatch(part)
        if match is None:
            return None
        phrases.append(("small" if match.group(1) else "large", match.group(2), match.group(3)))
    return Parsed(phrases, relations)


def describes(text: str, objects) -> bool:
    """True when the caption names exactly these objects, in reading order, and each
    relation holds between the neighbours it joins."""
    parsed, objs = parse(text), reading_order(objects)
    if parsed is None or len(parsed.phrases) != len(objs):
        return False
    for (size, colour, shape), obj in zip(parsed.phrases, objs, strict=True):
        if (size, colour, shape) != (obj.size, obj.colour, obj.shape):
            return False
    for rel, a, b in zip(parsed.relations, objs, objs[1:], strict=False):
        holds = a.row < b.row if rel == "above" else (a.row == b.row and a.col < b.col)
        if not holds:
            return False
    return True


def phrase_of_words(words: list[str]) -> list[int]:
    """For each word of a caption, the index of the noun phrase it belongs to (−1 for
    relation words), so a shape word finds its object in reading order."""
    out, phrase = [], -1
    for word in words:
        if word == "a":
            phrase += 1
        out.append(-1 if word in {"above", "to", "the", "left", "of"} else phrase)
    return out


# -- tokens ------------------------------------------------------------------------------
def encode(captions, length: int = MAX_WORDS + 2) -> np.ndarray:
    """int32 (N, length): <start> words <end> then <pad>; unknown words become <unk>."""
    index = {w: i for i, w in enumerate(VOCAB)}
    out = np.full((len(captions), length), PAD, np.int32)
    for n, text in enumerate(captions):
        ids = [START, *(index.get(w, UNK) for w in text.split()), END]
        if len(ids) > length:
            raise DataError(f"caption longer than {length - 2} words: {text!r}")
        out[n, :len(ids)] = ids
    return out


def decode(ids, vocab=VOCAB) -> list[str]:
    """Words of one token sequence, up to <end> (<start> and <pad> left out)."""
    words = []
    for i in np.asarray(ids).tolist():
        if i == END:
            break
        if i not in (PAD, START):
            words.append(vocab[i] if 0 <= i < len(vocab) else "<unk>")
    return words


# -- generation --------------------------------------------------------------------------
@dataclass
class Scenes:
    images: np.ndarray          # uint8 (N, 64, 64, 3)
    captions: list[str]
    objects: np.ndarray         # int16 (N, 3, len(FIELDS)), −1 rows for absent shapes

    def __len__(self) -> int:
        return len(self.captions)

    def counts(self) -> np.ndarray:
        return np.sum(self.objects[:, :, 0] >= 0, axis=1)


def random_scene(rng: np.random.Generator, max_objects: int = MAX_OBJECTS) -> list[SceneObject]:
    count = int(rng.integers(1, max_objects + 1))
    cells = rng.choice(GRID * GRID, size=count, replace=False)
    objs = [SceneObject(SHAPES[rng.integers(len(SHAPES))],
                        list(COLOURS)[rng.integers(len(COLOURS))],
                        SIZES[rng.integers(len(SIZES))], int(c // GRID), int(c % GRID))
            for c in cells]
    return reading_order(objs)


def objects_array(objects) -> np.ndarray:
    rows = np.full((MAX_OBJECTS, len(FIELDS)), -1, np.int16)
    for i, obj in enumerate(reading_order(objects)):
        rows[i] = obj.as_row()
    return rows


def generate(count: int, seed: int = 0, max_objects: int = MAX_OBJECTS) -> Scenes:
    """``count`` scenes drawn from ``seed``: the same seed, the same scenes."""
    if not isinstance(max_objects, int) or not 1 <= max_objects <= MAX_OBJECTS:
        raise DataError(f"max_objects must be 1, 2 or 3, got {max_objects!r}")
    rng = np.random.default_rng([int(seed), 9])
    scenes = [random_scene(rng, max_objects) for _ in range(int(count))]
    images = np.stack([draw_scene(s) for s in scenes]) if scenes else \
        np.zeros((0, SIDE, SIDE, 3), np.uint8)
    objects = np.stack([objects_array(s) for s in scenes]) if scenes else \
        np.zeros((0, MAX_OBJECTS, len(FIELDS)), np.int16)
    return Scenes(images, [caption(s) for s in scenes], objects)
