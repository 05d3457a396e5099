"""Captions from a trained captioner: greedy and beam decoding, soft or hard attention.

    out = greedy(model, images)                  # Decoded: tokens, α per word, captions
    out = beam_search(model, images, beam=3)     # the likeliest caption among ``beam`` paths
    out.captions[0], out.alphas[0]               # "a red circle …", (words + 1, 8, 8)

Images are uint8 (N, H, W, 3) of the model's size (``fit_images`` brings others to it,
as the dataset draws them). ``alphas[i][t]`` is the attention over the feature grid
when word t was chosen (the last row: when <end> was), each summing to 1;
``hard_cells[i][t]`` is that map's most attended cell (row, col), the book's hard
attention. ``hard=True`` decodes with hard attention: the context is that one cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnstudio.core.errors import ImageError
from cnnstudio.core.families.attention import shape_scenes as scenes

BATCH = 250


@dataclass
class Decoded:
    tokens: list[np.ndarray]            # per image: word ids, <end> excluded
    alphas: list[np.ndarray]            # per image: float32 (words + 1, gh, gw)
    captions: list[str]
    log_probs: np.ndarray               # per image: the caption's log probability

    @property
    def hard_cells(self) -> list[np.ndarray]:
        """Per image: the most attended cell (row, col) for each word (and <end>)."""
        out = []
        for a in self.alphas:
            flat = a.reshape(len(a), -1).argmax(axis=1)
            out.append(np.stack(np.unravel_index(flat, a.shape[1:]), axis=1))
        return out

    def words(self, i: int) -> list[str]:
        return self.captions[i].split()


def fit_images(images, shape=(scenes.SIDE, scenes.SIDE, 3)) -> np.ndarray:
    """uint8 images of any size and channel count → the model's (N, H, W, 3)."""
    from cnnstudio.core.imaging import fit_to_shape

    images = [np.asarray(im) for im in images]
    for im in images:
        if im.ndim not in (2, 3) or min(im.shape[:2]) < 1:
            raise ImageError(f"expected an image (H, W) or (H, W, C), got shape {im.shape}")
    return np.stack([fit_to_shape(im, tuple(shape)) for im in images]).astype(np.uint8)


def _log_softmax(logits) -> np.ndarray:
    x = np.asarray(logits, np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def _max_steps(max_words: int | None) -> int:
    return (max_words or scenes.MAX_WORDS) + 1        # the words, then <end>


def _finish(model, tokens, alphas, lengths, log_probs) -> Decoded:
    gh, gw = model.grid
    toks, maps, caps = [], [], []
    for seq, att, n in zip(tokens, alphas, lengths, strict=True):
        words = np.asarray(seq[:n], np.int32)
        toks.append(words)
        maps.append(np.asarray(att[:n + 1], np.float32).reshape(-1, gh, gw))
        caps.append(" ".join(scenes.decode(words, model.vocab)))
    return Decoded(toks, maps, caps, np.asarray(log_probs, np.float64))


def greedy(model, images, max_words: int | None = None, hard: bool = False) -> Decoded:
    """Each step's likeliest word, fed back in; batched."""
    images = np.asarray(images)
    parts = [_greedy(model, images[i:i + BATCH], max_words, hard)
             for i in range(0, len(images), BATCH)]
    return Decoded([t for p in parts for t in p.tokens], [a for p in parts for a in p.alphas],
                   [c for p in parts for c in p.captions],
                   np.concatenate([p.log_probs for p in parts]) if parts else np.zeros(0))


def _greedy(model, images, max_words, hard) -> Decoded:
    n, steps = len(images), _max_steps(max_words)
    feats, keys, state = model.start(images.astype(np.float32))
    token = np.full(n, scenes.START, np.int32)
    tokens, alphas = np.zeros((n, steps), np.int32), []
    done, lengths = np.zeros(n, bool), np.full(n, steps, np.int32)
    log_probs = np.zeros(n)
    for t in range(steps):
        logits, state, alpha = model.step(token, state, feats, keys, hard=hard)
        logp = _log_softmax(logits)
        token = logp.argmax(axis=1).astype(np.int32)
        log_probs += np.where(done, 0.0, logp[np.arange(n), token])
        alphas.append(np.asarray(alpha))
        tokens[:, t] = token
        ended = (token == scenes.END) & ~done
        lengths[ended] = t
        done |= ended
        if done.all():
            break
    lengths = np.minimum(lengths, steps - 1)
    return _finish(model, tokens, np.stack(alphas, axis=1), lengths, log_probs)


def beam_search(model, images, beam: int = 3, max_words: int | None = None,
                hard: bool = False) -> Decoded:
    """Keep the ``beam`` likeliest partial captions at each step (sum of log probabilities);
    a finished caption keeps its score. Beam 1 is greedy decoding."""
    if not isinstance(beam, int) or not 1 <= beam <= 16:
        raise ValueError(f"beam must be an integer from 1 to 16, got {beam!r}")
    images = np.asarray(images)
    parts = [_beam(model, images[i:i + BATCH], beam, max_words, hard)
             for i in range(0, len(images), BATCH)]
    return Decoded([t for p in parts for t in p.tokens], [a for p in parts for a in p.alphas],
                   [c for p in parts for c in p.captions],
                   np.concatenate([p.log_probs for p in parts]) if parts else np.zeros(0))


def _beam(model, images, k, max_words, hard) -> Decoded:
    from cnnstudio.core.keras_setup import keras

    take = keras().ops.take
    n, steps = len(images), _max_steps(max_words)
    feats, keys, state = model.start(images.astype(np.float32))
    rep = np.repeat(np.arange(n), k)                       # image of each of the n·k rows
    feats, keys = take(feats, rep, axis=0), take(keys, rep, axis=0)
    state = [take(s, rep, axis=0) for s in state]
    scores = np.full((n, k), -np.inf)
    scores[:, 0] = 0.0                                     # one live path to start with
    token = np.full(n * k, scenes.START, np.int32)
    seqs = np.zeros((n, k, 0), np.int32)
    maps = np.zeros((n, k, 0, int(feats.shape[1])), np.float32)
    done = np.zeros((n, k), bool)
    lengths = np.full((n, k), steps - 1, np.int32)
    for t in range(steps):
        logits, state, alpha = model.step(token, state, feats, keys, hard=hard)
        logp = _log_softmax(logits).reshape(n, k, -1)
        vocab = logp.shape[-1]
        logp[done] = -np.inf                               # a finished path only pads …
        logp[done, scenes.PAD] = 0.0                       # … at no cost
        cand = (scores[:, :, None] + logp).reshape(n, k * vocab)
        best = np.argsort(-cand, axis=1, kind="stable")[:, :k]
        origin, word = best // vocab, (best % vocab).astype(np.int32)
        scores = np.take_along_axis(cand, best, axis=1)
        rows = (np.arange(n)[:, None] * k + origin).reshape(-1)
        state = [take(s, rows, axis=0) for s in state]
        seqs = np.concatenate([np.take_along_axis(seqs, origin[..., None], 1), word[..., None]],
                              axis=2)
        alpha = np.asarray(alpha).reshape(n, k, 1, -1)
        maps = np.concatenate([np.take_along_axis(maps, origin[..., None, None], 1),
                               np.take_along_axis(alpha, origin[..., None, None], 1)], axis=2)
        was_done = np.take_along_axis(done, origin, 1)
        lengths = np.take_along_axis(lengths, origin, 1)
        ended = (word == scenes.END) & ~was_done
        lengths[ended] = t
        done = was_done | ended
        token = word.reshape(-1)
        if done.all():
            break
    top = np.argmax(scores, axis=1)                        # the first of equals, like argmax
    pick = np.arange(n)
    return _finish(model, seqs[pick, top], maps[pick, top], lengths[pick, top],
                   scores[pick, top])


def caption_images(model, images, beam: int = 1, hard: bool = False) -> Decoded:
    """Any images (fitted to the model's size as the dataset draws them) → captions."""
    x = fit_images(images, model.image_shape)
    return greedy(model, x, hard=hard) if beam == 1 else beam_search(model, x, beam, hard=hard)
