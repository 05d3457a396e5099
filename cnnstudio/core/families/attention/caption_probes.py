"""Per-epoch caption probes: what the captioner says about fixed scenes, and where it looks.

Layout under ``run_dir/probes`` (written by ``CaptionRecorder`` every epoch):

    captions-probes.npz       images, references, objects of the probe scenes (once)
    captions-epoch-NNNN.npz   captions (greedy, soft attention), alphas (P, T, gh, gw)
                              float16 padded with zeros, lengths (words per caption),
                              hard_captions (greedy decoding with hard attention)

``CaptionStore(run_dir).load(epoch)`` gives a ``CaptionFrame`` back, so a finished or
crashed run replays epoch by epoch; ``ProbeReady("captions")`` carries the same frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnstudio.core.families.attention import caption_decode, caption_metrics
from cnnstudio.core.probes.store import EpochStore, save_npz

PROBES_FILE = "captions-probes.npz"
PROBE_NAME = "captions"


@dataclass
class ProbeSet:
    images: np.ndarray              # uint8 (P, H, W, 3)
    references: list[str]
    objects: np.ndarray             # int16 (P, 3, fields)


@dataclass
class CaptionFrame:
    epoch: int
    captions: list[str]
    alphas: list[np.ndarray]        # per probe: (words + 1, gh, gw)
    hard_captions: list[str] = field(default_factory=list)
    path: str = ""

    def hits(self, probes: ProbeSet) -> list[list[tuple[int, bool]]]:
        return [caption_metrics.word_hits(c.split(), a, probes.objects[i])
                for i, (c, a) in enumerate(zip(self.captions, self.alphas, strict=True))]


class CaptionStore(EpochStore):
    PREFIX, WHAT = "captions-", "caption probes"

    def probes(self) -> ProbeSet | None:
        try:
            with np.load(self.folder / PROBES_FILE) as data:
                return ProbeSet(data["images"], [str(s) for s in data["references"]],
                                data["objects"])
        except FileNotFoundError:
            return None

    def write_probes(self, probes: ProbeSet) -> None:
        save_npz(self.folder / PROBES_FILE, images=probes.images,
                  references=np.asarray(probes.references, dtype=str), objects=probes.objects)

    def write(self, frame: CaptionFrame) -> Path:
        steps = max(len(a) for a in frame.alphas)
        gh, gw = frame.alphas[0].shape[1:]
        alphas = np.zeros((len(frame.alphas), steps, gh, gw), np.float16)
        for i, a in enumerate(frame.alphas):
            alphas[i, :len(a)] = a
        return save_npz(self.path(frame.epoch), captions=np.asarray(frame.captions, dtype=str),
                         hard_captions=np.asarray(frame.hard_captions, dtype=str),
                         alphas=alphas, lengths=np.asarray([len(a) for a in frame.alphas]))

    def load(self, epoch: int) -> CaptionFrame:
        path = self.existing(epoch)
        with np.load(path) as data:
            alphas = [a[:n].astype(np.float32) for a, n in zip(data["alphas"], data["lengths"],
                                                               strict=True)]
            return CaptionFrame(epoch, [str(s) for s in data["captions"]], alphas,
                                [str(s) for s in data["hard_captions"]], str(path))


def describe(model, images, max_words: int | None = None) -> CaptionFrame:
    """Greedy captions with their soft attention maps, and the hard-attention captions."""
    soft = caption_decode.greedy(model, images, max_words)
    hard = caption_decode.greedy(model, images, max_words, hard=True)
    return CaptionFrame(0, soft.captions, soft.alphas, hard.captions)


class CaptionRecorder:
    """Epoch hook ``recorder(model, epoch)``: caption the probe scenes, store, announce.

    The probe set is written once; a resumed run reads it back and keeps its scenes.
    ``max_words`` caps the captions at the data's longest: an untrained model babbles to
    the cap, and this runs where the engine writes its epochs, off the training thread."""

    def __init__(self, run_dir, probes: ProbeSet, sink=None, max_words: int | None = None):
        self.store, self.sink, self.max_words = CaptionStore(run_dir), sink, max_words
        stored = self.store.probes()
        if stored is None:
            self.store.write_probes(probes)
            stored = probes
        self.probes = stored

    def __call__(self, model, epoch: int) -> Path:
        frame = describe(model, self.probes.images, self.max_words)
        frame.epoch = epoch
        frame.path = str(self.store.write(frame))
        if self.sink is not None:
            from cnnstudio.core.training.events import ProbeReady

            self.sink(ProbeReady(PROBE_NAME, epoch, frame.path,
                                 payload={"frame": frame, "probes": self.probes}))
        return Path(frame.path)


def caption_one(model, image, beam: int = 1) -> dict:
    """One image of any size (fitted as the dataset draws scenes) → its caption, the soft
    maps per word, and the caption hard attention gives. Runs where the model lives."""
    x = caption_decode.fit_images([image], model.image_shape)
    soft = caption_decode.greedy(model, x) if beam == 1 else \
        caption_decode.beam_search(model, x, beam)
    hard = caption_decode.greedy(model, x, hard=True)
    return {"image": x[0], "caption": soft.captions[0], "alphas": soft.alphas[0],
            "hard_caption": hard.captions[0], "beam": beam}
