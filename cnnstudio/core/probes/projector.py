"""The embedding projector: the test set's penultimate features in two dimensions.

    found = project_model(model, images, labels, method="pca")   # or "tsne", "umap"
    found.xy (N, 2); found.predicted; found.right
    chosen = inside(found.xy, polygon)      # the lasso: a bool mask of the points inside

The penultimate features are the input of the classifier's ``predictions`` layer (what
the last layer separates with straight lines). PCA (scikit-learn) is exact and quick;
t-SNE (scikit-learn, always there) keeps neighbourhoods, not distances; UMAP when the
``umap-learn`` package is installed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cnnstudio.core.errors import StudioError

METHODS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
SAMPLE = 1000           # test images projected (t-SNE on 1,000 points: a few seconds)


def methods() -> list[str]:
    """The projections available here: PCA and t-SNE always, UMAP when installed."""
    found = ["pca", "tsne"]
    if importlib.util.find_spec("umap") is not None:
        found.append("umap")
    return found


def feature_extractor(model):
    """input → penultimate features: the input of the ``predictions`` head, else of the
    model's last layer."""
    from cnnstudio.core.familiarity import head_layer
    from cnnstudio.core.keras_setup import keras
    from cnnstudio.core.probes.feature_maps import single_input

    head = head_layer(model) or model.layers[-1]
    try:
        return keras().Model(single_input(model), head.input, name="penultimate")
    except (AttributeError, ValueError, IndexError, TypeError) as exc:
        raise StudioError(f"model {model.name} has no penultimate layer the projector can "
                          f"read ({type(exc).__name__})") from exc


def features(model, images, batch_size: int = 256,
             progress: Callable[[float], None] | None = None) -> np.ndarray:
    """(N, D) float32 penultimate features of raw-pixel images."""
    from cnnstudio.core.probes.feature_maps import as_batch, input_shape

    extractor, shape = feature_extractor(model), input_shape(model)
    images = np.asarray(images)
    out = []
    for start in range(0, len(images), batch_size):
        x = as_batch(images[start:start + batch_size], shape)
        out.append(np.asarray(extractor(x, training=False), np.float32).reshape(len(x), -1))
        if progress is not None:
            progress(min(1.0, (start + batch_size) / len(images)))
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def project(feats: np.ndarray, method: str = "pca", seed: int = 0) -> tuple[np.ndarray, str]:
    """(N, 2) float32 coordinates and a line saying what they are."""
    feats = np.asarray(feats, np.float64)
    if method not in METHODS:
        raise StudioError(f"unknown projection {method!r}; choose one of "
                          + ", ".join(METHODS))
    if method not in methods():
        raise StudioError(f"{METHODS[method]} needs the umap-learn package "
                          "(pip install umap-learn)")
    n = len(feats)
    if n < 3:
        raise StudioError(f"a projection needs at least 3 images, got {n}")
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed)
        xy = pca.fit_transform(feats) if feats.shape[1] >= 2 else np.c_[feats, np.zeros(n)]
        share = getattr(pca, "explained_variance_ratio_", np.zeros(2))
        note = (f"PCA of {feats.shape[1]} features: the two axes keep "
                f"{float(np.sum(share)):.0%} of their variance")
    elif method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, (n - 1) / 3))
        xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed
                  ).fit_transform(feats)
        note = (f"t-SNE of {feats.shape[1]} features (perplexity {perplexity:g}): near points "
                "are neighbours; distances between clusters mean little")
    else:
        import umap

        xy = umap.UMAP(n_components=2, random_state=seed).fit_transform(feats)
        note = f"UMAP of {feats.shape[1]} features"
    return np.asarray(xy, np.float32), note


@dataclass
class Projection:
    xy: np.ndarray                 # (N, 2)
    labels: np.ndarray             # (N,) true classes
    predicted: np.ndarray          # (N,)
    confidence: np.ndarray         # (N,)
    method: str
    note: str
    indices: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))   # test ids

    @property
    def right(self) -> np.ndarray:
        return self.predicted == self.labels


def project_model(model, images, labels, method: str = "pca", seed: int = 0,
                  indices=None) -> Projection:
    """Features and predictions of ``images`` by ``model``, projected. Call it on the thread
    that owns the model; ``project`` alone may run anywhere (``Projection`` parts apart)."""
    feats = features(model, images)
    head = predictions(model, images)
    xy, note = project(feats, method, seed)
    return Projection(xy, np.asarray(labels, np.int64), head.argmax(axis=1),
                      head.max(axis=1), method, note,
                      np.arange(len(xy)) if indices is None else np.asarray(indices))


def predictions(model, images, batch_size: int = 256) -> np.ndarray:
    from cnnstudio.core.probes.calibration_record import predict_probabilities
    from cnnstudio.core.probes.feature_maps import as_batch, input_shape

    return predict_probabilities(model, as_batch(images, input_shape(model)), batch_size)


def inside(points, polygon) -> np.ndarray:
    """A bool mask of the ``points`` (N, 2) inside the closed ``polygon`` (M, 2), by the
    even-odd rule (a lasso that crosses itself leaves its loops' overlaps out)."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, np.float64).reshape(-1, 2)
    mask = np.zeros(len(points), bool)
    if len(poly) < 3:
        return mask
    x, y = points[:, 0], points[:, 1]
    for (x1, y1), (x2, y2) in zip(poly, np.roll(poly, -1, axis=0), strict=True):
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        mask ^= crosses & (x < at)
    return mask
