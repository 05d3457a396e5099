"""Predictions from a run directory: the same preprocessing as training, top-k classes.

    predictor = Predictor.from_run("runs/…-lenet5")
    predictor.top_k(read_image("seven.png"), k=5)   → [("7", 0.98), ("1", 0.01), …]
    predictor.familiarity(read_image("astronaut.png"))
                                  → {"score": 4.2, "threshold": 1.9, "unfamiliar": True}

The model is loaded with Keras's ``safe_mode`` (no arbitrary code from the file).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.familiarity import Familiarity, feature_model
from cnnstudio.core.imaging import fit_to_shape
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.photo_prep import adapt, training_stats
from cnnstudio.core.training.rundir import RunDir

# Predictions go through one fixed batch shape. Small inputs: 8 rows (a dropped image then
# costs 8 rows of a small model, under a millisecond; a folder of files, fewer calls).
# Large inputs (a 224-pixel transfer model): 1 row, so one image never costs eight.
PREDICT_BATCH_SMALL, SMALL_PIXELS = 8, 64 * 64


def load_model_file(path: str | Path):
    """Load a ``.keras`` file safely; any failure becomes one readable StudioError."""
    path = Path(path)
    if not path.is_file():
        raise StudioError(f"model file not found: {path}")
    from cnnstudio.core.registry import import_model_modules

    import_model_modules()     # every family's own Keras classes must be known before loading
    if not zipfile.is_zipfile(path):         # a .keras file is a zip: cut short, or not one
        raise StudioError(f"model file {path.name} is damaged (not a complete .keras file)"
                          + _intact_checkpoint_hint(path))
    try:
        return keras().saving.load_model(path, safe_mode=True)
    except Exception as exc:     # unsafe lambda, unknown layer, …
        text = str(exc)
        if "safe_mode" in text or "unsafe" in text.lower():
            raise StudioError(
                f"refused to load {path.name}: it holds Python code (a Lambda layer or a "
                "custom function) that would run when loaded. If you trust where it came "
                "from, load it yourself with keras.saving.load_model(path, safe_mode=False)"
            ) from None
        first = text.splitlines()[0] if text else type(exc).__name__
        raise StudioError(f"cannot load model {path.name}: {first}") from None


def _intact_checkpoint_hint(path: Path) -> str:
    """Where a run's model file is damaged: its newest checkpoint that is a whole file."""
    folder = path.parent if path.parent.name != "checkpoints" else path.parent.parent
    checkpoints = sorted((folder / "checkpoints").glob("epoch-*.keras"), reverse=True)
    for candidate in checkpoints:
        if candidate != path and zipfile.is_zipfile(candidate):
            return (f"; the newest intact checkpoint is {candidate.relative_to(folder)}: it "
                    "holds the model as it was after that epoch")
    return "; no intact checkpoint is beside it"


@dataclass
class Predictor:
    model: object
    class_names: list[str]
    input_shape: tuple[int, int, int]
    imagenet_base: str | None = None   # a transfer run over ImageNet weights: its base
    # How the training images look (photo_prep.training_stats); photos are brought to that
    # form unless adapt_photos is off.
    image_stats: dict | None = None
    adapt_photos: bool = True
    # How unlike its training images an input is (core/familiarity.py): the statistics of a
    # finished run, fitted on its final model; None: the run has none, nothing is flagged.
    familiar: Familiarity | None = field(default=None, repr=False)
    _imagenet: object = field(default=None, repr=False)     # the full ImageNet classifier
    _features: object = field(default=None, repr=False)     # images → penultimate features

    @classmethod
    def from_run(cls, run_dir: str | Path) -> Predictor:
        folder = RunDir.open(run_dir)
        path = folder.model_path()
        if path is None:
            raise StudioError(f"run {folder.path.name} has no trained model yet "
                              "(no model.keras and no checkpoint)")
        predictor = cls.for_model(load_model_file(path), folder.read_json("dataset.json", {}))
        predictor.imagenet_base = imagenet_base_of(folder)
        if path.name == "model.keras":      # a checkpoint is not what the statistics fit
            predictor.familiar = Familiarity.load(folder.path, predictor.model)
        if predictor.image_stats is None:     # a run from before the stats were recorded
            predictor.image_stats = _stats_from_probes(folder.path)
        return predictor

    @classmethod
    def for_model(cls, model, dataset_info: dict) -> Predictor:
        try:
            shape = tuple(int(d) for d in model.inputs[0].shape[1:])
            classes = int(model.outputs[0].shape[-1])
        except AttributeError:   # a subclassed model (transfer) has no symbolic inputs
            if not dataset_info.get("input_shape"):
                raise StudioError("the model does not say its input shape and the run has "
                                  "no dataset.json") from None
            shape = tuple(int(d) for d in dataset_info["input_shape"])
            classes = int(model(np.zeros((1, *shape), "float32")).shape[-1])
        names = list(dataset_info.get("class_names") or [])
        if len(names) != classes:
            names = [str(i) for i in range(classes)]
        return cls(model, names, shape, image_stats=dataset_info.get("image_stats"))

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """The image exactly as the model sees it (resized, channels converted, and a photo
        brought to the training images' form)."""
        return self.prepare_explained(image)[0]

    def prepare_explained(self, image: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """``prepare`` and the steps it took beyond resizing (for "as the model sees it")."""
        if not self.adapt_photos:
            return fit_to_shape(image, self.input_shape), []
        return adapt(image, self.image_stats, self.input_shape)

    def probabilities(self, images: list[np.ndarray]) -> np.ndarray:
        """Class probabilities, always through batches of one size (the last one padded):
        one input shape, so the model's predict function is traced once, not again for
        each new number of images."""
        return self._batched(self.model, np.stack([self.prepare(im) for im in images]))

    def _batched(self, model, batch: np.ndarray) -> np.ndarray:
        """``model`` on prepared images, through batches of one size."""
        batch = np.asarray(batch, np.float32)
        h, w = self.input_shape[:2]
        size = PREDICT_BATCH_SMALL if h * w <= SMALL_PIXELS else 1
        out = []
        for start in range(0, len(batch), size):
            chunk = batch[start:start + size]
            padded = np.zeros((size, *chunk.shape[1:]), np.float32)
            padded[:len(chunk)] = chunk
            out.append(np.asarray(model.predict_on_batch(padded))[:len(chunk)])
        return np.concatenate(out).astype(np.float64)

    def top_k(self, image: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
        return rank(self.probabilities([image])[0], self.class_names, k)

    def familiarities(self, images: list[np.ndarray]) -> list[dict] | None:
        """For each image (as the model sees it, photo preparation included): ``score`` (how
        unlike the training images its features are), ``threshold`` (the score 98 % of the
        held-out images stay under) and ``unfamiliar``. None when the run has no statistics."""
        if self.familiar is None:
            return None
        return self._judge(np.stack([self.prepare(im) for im in images]))

    def familiarity(self, image: np.ndarray) -> dict | None:
        found = self.familiarities([image])
        return None if found is None else found[0]

    def answer(self, image: np.ndarray, k: int = 5):
        """One image prepared once: (as the model sees it, the preparation's steps, top
        ``k``, familiarity or None) — what the dock and ``cnnstudio predict`` show."""
        prepared, steps = self.prepare_explained(image)
        probs = self._batched(self.model, prepared[None])[0]
        found = None if self.familiar is None else self._judge(prepared[None])
        return prepared, steps, rank(probs, self.class_names, k), found and found[0]

    def _judge(self, batch: np.ndarray) -> list[dict] | None:
        if self._features is None:
            self._features = feature_model(self.model)
            if self._features is None:
                return None
        features = self._batched(self._features, batch).reshape(len(batch), -1)
        return self.familiar.judge(features)


def imagenet_base_of(folder: RunDir) -> str | None:
    """The ImageNet base of a transfer run trained from ImageNet weights, else None."""
    try:
        model = folder.config().model
    except Exception:     # an unreadable config only loses this extra
        return None
    if model.id != "transfer":
        return None
    from cnnstudio.core.registry import ARCHITECTURES

    options = {**ARCHITECTURES.get("transfer").defaults, **(model.options or {})}
    if options.get("weights") != "imagenet" or options.get("mode") == "scratch":
        return None
    return str(options.get("base"))



def _stats_from_probes(run_dir: Path) -> dict | None:
    from cnnstudio.core.probes.recorder import ProbeStore

    try:
        images, _labels = ProbeStore(run_dir).images()
    except (OSError, KeyError, ValueError):
        return None
    return training_stats(images)


def rank(probs: np.ndarray, names: list[str], k: int) -> list[tuple[str, float]]:
    order = np.argsort(-probs, kind="stable")[:k]
    return [(names[i], float(probs[i])) for i in order]
