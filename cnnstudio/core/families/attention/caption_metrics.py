"""How good captions are, numpy only: corpus BLEU-4, exact match, attention hit rate.

    bleu4(candidates, references)      # Papineni et al. 2002, one reference per image
    exact_match(candidates, references)
    attention_hit_rate(decoded, objects_rows)

**BLEU-4** pools, over the whole test set, the clipped 1- to 4-gram matches of each
candidate against its reference, takes the geometric mean of the four precisions and
multiplies by the brevity penalty exp(1 − r/c) when the candidates are shorter in total
(r) than the references (c). No smoothing: a corpus with no matching 4-gram scores 0.

**Attention hit rate**: for every shape word the model generates ("circle", "square",
"triangle"), is the peak of its attention map inside the box of the object that phrase
names? The phrase's object is the scene's object at the same place in reading order
(the grammar names objects in that order); a phrase beyond the scene's objects misses.
The peak is the most attended cell's centre in image pixels.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from cnnstudio.core.families.attention import shape_scenes as scenes


def _ngrams(words: list[str], n: int) -> Counter:
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def bleu4(candidates: list[str], references: list[str]) -> float:
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates for {len(references)} references")
    matches, totals = [0] * 4, [0] * 4
    cand_len = ref_len = 0
    for cand, ref in zip(candidates, references, strict=True):
        c, r = cand.split(), ref.split()
        cand_len, ref_len = cand_len + len(c), ref_len + len(r)
        for n in range(1, 5):
            cn, rn = _ngrams(c, n), _ngrams(r, n)
            matches[n - 1] += sum(min(k, rn[g]) for g, k in cn.items())
            totals[n - 1] += max(len(c) - n + 1, 0)
    if min(matches) == 0 or cand_len == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matches, totals, strict=True)) / 4
    brevity = 1.0 if cand_len > ref_len else math.exp(1 - ref_len / cand_len)
    return float(brevity * math.exp(log_p))


def exact_match(candidates: list[str], references: list[str]) -> float:
    if not references:
        return 0.0
    return float(np.mean([c.split() == r.split()
                          for c, r in zip(candidates, references, strict=True)]))


def cell_centre(cell, grid: tuple[int, int], side: int = scenes.SIDE) -> tuple[float, float]:
    """(x, y) in image pixels of a grid cell's centre."""
    row, col = cell
    return (col + 0.5) * side / grid[1] - 0.5, (row + 0.5) * side / grid[0] - 0.5


def word_hits(words: list[str], alphas: np.ndarray, rows) -> list[tuple[int, bool]]:
    """(word index, hit) for each shape word of one generated caption."""
    objects = scenes.scene_objects(rows)            # reading order, as stored
    phrases = scenes.phrase_of_words(words)
    grid = alphas.shape[1:]
    out = []
    for t, word in enumerate(words):
        if word not in scenes.SHAPES:
            continue
        k = phrases[t]
        if not 0 <= k < len(objects):
            out.append((t, False))
            continue
        cell = np.unravel_index(int(np.argmax(alphas[t])), grid)
        x, y = cell_centre(cell, grid)
        x0, y0, x1, y1 = objects[k].box
        out.append((t, bool(x0 <= x <= x1 and y0 <= y <= y1)))
    return out


def attention_hit_rate(decoded, objects) -> float:
    hits = [hit for i in range(len(decoded.captions))
            for _, hit in word_hits(decoded.words(i), decoded.alphas[i], objects[i])]
    return float(np.mean(hits)) if hits else 0.0


def caption_scores(decoded, references: list[str], objects) -> dict[str, float]:
    return {"bleu4": bleu4(decoded.captions, references),
            "exact_match": exact_match(decoded.captions, references),
            "attention_hit_rate": attention_hit_rate(decoded, objects)}


def box_cells(rows, grid: tuple[int, int]) -> list[np.ndarray]:
    """Per object (reading order): uint8 (cells,) — 1 where a cell's centre lies in its box."""
    gh, gw = grid
    ys, xs = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
    cx, cy = cell_centre((ys, xs), grid)
    out = []
    for obj in scenes.scene_objects(rows):
        x0, y0, x1, y1 = obj.box
        out.append(((cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)).astype(np.uint8).ravel())
    return out


def attention_targets(captions: list[str], objects, steps: int,
                      grid: tuple[int, int]) -> np.ndarray:
    """uint8 (N, steps, cells): for each size, colour and shape word of each caption, the
    cells of the shape it names (the box supervision option); zeros elsewhere. Step t is
    the step that writes word t (teacher forcing's target t)."""
    content = {"small", *scenes.COLOURS, *scenes.SHAPES}
    out = np.zeros((len(captions), steps, grid[0] * grid[1]), np.uint8)
    for n, (text, rows) in enumerate(zip(captions, objects, strict=True)):
        cells = box_cells(rows, grid)
        words = text.split()
        for t, (word, k) in enumerate(zip(words, scenes.phrase_of_words(words), strict=True)):
            if word in content and 0 <= k < len(cells) and t < steps:
                out[n, t] = cells[k]
    return out
