"""Open a Teachable Machine Keras export (``keras_model.h5`` + ``labels.txt``) as a studio run.

    run = import_teachable("converted_keras/keras_model.h5", "converted_keras/labels.txt")
    Predictor.from_run(run).top_k(read_image("cat.jpg"))      # like any trained run

Teachable Machine's exporter (tf.keras 2) writes a legacy HDF5 model whose DepthwiseConv2D
configs carry ``"groups": 1``, an argument Keras 3 rejects ("Unrecognized keyword arguments
… groups"). The import rewrites that JSON (in a private copy; the user's file is only read)
and loads it with ``safe_mode``: no code in the file ever runs, a Lambda layer is refused.

TM's models take 224×224×3 images scaled to [-1, 1] (``x / 127.5 - 1``); the studio's runs
take raw 0–255 pixels. So the loaded model is wrapped behind a ``Rescaling(1/127.5,
offset=-1)`` layer (unless it already starts with one) and ``dataset.json`` says so:
``cnnstudio predict RUN photo.jpg`` then answers as Teachable Machine does (the studio
resizes the whole photo; TM's sample code crops its centre square first).

The new run is finished, with no dataset of its own: config.json (dataset
``teachable-machine``, model ``imported``), dataset.json (class names, input shape, the
preprocessing, where it came from), model.json, model.keras and summary.json.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

from cnnstudio.core.errors import DataError, StudioError
from cnnstudio.core.keras_setup import keras

DATASET_ID = "teachable-machine"
MODEL_ID = "imported"
SCALE, OFFSET = 1 / 127.5, -1.0          # TM's (and MobileNet's) [-1, 1] inputs
DEPTHWISE = ("DepthwiseConv1D", "DepthwiseConv2D")
INDEXED = re.compile(r"^(\d+)\s+(.*)$")     # TM's lines: "0 Class name"


# -- labels.txt -----------------------------------------------------------------------------
def read_labels(path) -> list[str]:
    """The class names, in output order. TM writes "0 Cats" per line; a plain "Cats" per
    line is read too. Numbered lines must count 0, 1, 2… in order."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"labels file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read labels file {path.name}: {exc}") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataError(f"labels file {path.name} names no classes")
    names = []
    for row, line in enumerate(lines):
        found = INDEXED.match(line)
        if found is None:
            names.append(line)
            continue
        if int(found.group(1)) != row:
            raise DataError(f"labels file {path.name}, line {row + 1}: expected class number "
                            f"{row}, got {found.group(1)} ({line!r})")
        names.append(found.group(2).strip() or found.group(1))
    return names


# -- keras_model.h5 -------------------------------------------------------------------------
def _drop_groups(config) -> int:
    """Remove ``groups`` from every depthwise layer's config, nested models included; how
    many were removed."""
    removed = 0
    if isinstance(config, dict):
        if config.get("class_name") in DEPTHWISE and isinstance(config.get("config"), dict):
            removed += config["config"].pop("groups", None) is not None
        for value in config.values():
            removed += _drop_groups(value)
    elif isinstance(config, list):
        for value in config:
            removed += _drop_groups(value)
    return removed


def _model_config(path: Path) -> dict:
    import h5py

    if not h5py.is_hdf5(path):
        raise DataError(f"{path.name} is not a Keras HDF5 model (Teachable Machine's "
                        "Keras export is keras_model.h5 in converted_keras.zip)")
    try:
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("model_config")
    except OSError as exc:
        raise DataError(f"cannot read {path.name}: {exc}") from None
    if raw is None:
        raise DataError(f"{path.name} holds no model, only weights (no model_config); "
                        "export the model from Teachable Machine as Keras")
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    try:
        config = json.loads(raw)
    except (TypeError, ValueError):
        raise DataError(f"{path.name}: its model_config is not JSON") from None
    if not isinstance(config, dict):
        raise DataError(f"{path.name}: its model_config is not a model")
    return config


def load_teachable_model(h5_path):
    """The export's Keras model, loaded in Keras 3 with the ``groups`` fix and safe_mode."""
    import h5py

    path = Path(h5_path).expanduser()
    if not path.is_file():
        raise DataError(f"Teachable Machine model not found: {path}")
    config = _model_config(path)
    _drop_groups(config)
    with tempfile.TemporaryDirectory(prefix="cnnstudio-tm-") as folder:
        copy = Path(folder) / "keras_model.h5"       # Keras picks the loader by the suffix
        shutil.copyfile(path, copy)
        with h5py.File(copy, "r+") as f:
            f.attrs["model_config"] = json.dumps(config)
        try:
            return keras().saving.load_model(copy, compile=False, safe_mode=True)
        except Exception as exc:     # unsafe Lambda, unknown layer, damaged weights, …
            text = str(exc)
            if "safe_mode" in text or "unsafe" in text.lower():
                raise StudioError(
                    f"refused to load {path.name}: it holds Python code (a Lambda layer) "
                    "that would run when loaded; Teachable Machine's exports hold none"
                ) from None
            first = text.splitlines()[0] if text else type(exc).__name__
            raise StudioError(f"cannot load {path.name} in Keras 3: {first[:400]}") from None


def _first_layer(model):
    """The first layer that computes something (nested models entered)."""
    for layer in getattr(model, "layers", []):
        if type(layer).__name__ == "InputLayer":
            continue
        return _first_layer(layer) if getattr(layer, "layers", None) else layer
    return None


def scales_itself(model) -> bool:
    """True when the model begins with a Rescaling or Normalization layer."""
    return type(_first_layer(model)).__name__ in ("Rescaling", "Normalization")


def with_scaling(model):
    """A model taking raw 0–255 pixels: ``model`` behind Rescaling(1/127.5, offset=-1)."""
    k = keras()
    inputs = k.Input(tuple(model.inputs[0].shape[1:]), name="image")
    scaled = k.layers.Rescaling(SCALE, offset=OFFSET, name="to_minus1_1")(inputs)
    return k.Model(inputs, model(scaled), name="teachable_machine")


def _shapes(model, path: Path) -> tuple[tuple[int, ...], int]:
    try:
        shape = tuple(model.inputs[0].shape[1:])
        classes = model.outputs[0].shape[-1]
    except (AttributeError, IndexError):
        raise DataError(f"{path.name}: the model does not say its input and output shapes") \
            from None
    if len(shape) != 3 or shape[-1] not in (1, 3) or None in shape or classes is None:
        raise DataError(f"{path.name} is not an image classifier: it takes {shape} and gives "
                        f"{tuple(model.outputs[0].shape[1:])} (expected an image such as "
                        "224×224×3 in, one score per class out)")
    return tuple(int(s) for s in shape), int(classes)


# -- the run --------------------------------------------------------------------------------
def import_teachable(h5_path, labels_path, runs_root=None, name=None) -> Path:
    """Write the export as a new finished run under ``runs_root`` (the studio's runs folder
    by default) and return its folder. The export's files are only read."""
    h5_path, labels_path = Path(h5_path).expanduser(), Path(labels_path).expanduser()
    if not h5_path.is_file():
        raise DataError(f"Teachable Machine model not found: {h5_path}")
    names = read_labels(labels_path)
    model = load_teachable_model(h5_path)
    shape, classes = _shapes(model, h5_path)
    if classes != len(names):
        raise DataError(f"{h5_path.name} gives {classes} class scores but {labels_path.name} "
                        f"names {len(names)} classes ({', '.join(names[:6])}"
                        f"{', …' if len(names) > 6 else ''}): are they from the same export?")
    inside = scales_itself(model)
    if not inside:
        model = with_scaling(model)
    return _write_run(model, names, shape, h5_path, labels_path, runs_root,
                      str(name or "").strip(), added=not inside)


def _write_run(model, names, shape, h5_path: Path, labels_path: Path, runs_root, name: str,
               added: bool) -> Path:
    """The imported model as a finished run of its own (``RunDir.write_finished``)."""
    from cnnstudio.core.architecture import layer_table
    from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
    from cnnstudio.core.training.rundir import RunDir

    source = {"model_file": str(h5_path.resolve()), "labels_file": str(labels_path.resolve())}
    config = RunConfig(dataset=DatasetConfig(DATASET_ID, dict(source)),
                       model=ModelConfig(MODEL_ID, {"format": "keras-h5"}),
                       training=TrainConfig(epochs=1), name=name)
    preprocessing = {"scale": SCALE, "offset": OFFSET, "range": [-1.0, 1.0],
                     "where": "a Rescaling layer added in front of the model on import"
                     if added else "the model's own first layer",
                     "input": "raw 0–255 RGB pixels, resized to the input shape"}
    return RunDir.write_finished(config, runs_root, model, {
        "dataset.json": {
            "id": DATASET_ID, "name": "Teachable Machine export",
            "input_shape": list(shape), "class_names": list(names),
            "num_train": 0, "num_test": 0, "train_counts": [], "test_counts": [],
            "description": f"imported from {h5_path.name} and {labels_path.name}",
            "image_stats": None, "preprocessing": preprocessing, "source": source},
        "model.json": {"id": MODEL_ID, "name": "Teachable Machine model",
                       "params": int(model.count_params()), "layers": layer_table(model)}},
        {"epochs_done": None, "imported": {"from": "teachable-machine", **source,
                                           "classes": len(names),
                                           "preprocessing": preprocessing}},
        imported=True)
