"""Exports that prove themselves: SavedModel, TFLite and ONNX files of a classification run.

    result = export_run("runs/…-lenet5", "onnx", "exports/lenet5-onnx")
    result.max_abs_diff, result.top1_agreement       # the self-test's figures

The exported model takes what a user has: a batch of raw images of the training size,
uint8 (N, H, W, C), RGB or grey. The cast to float sits inside the export, and every studio
model rescales 0–255 itself in its first layer, so no preprocessing can differ between the
studio and the export. After writing, the export is reloaded in its own runtime (TensorFlow's
SavedModel loader, the LiteRT/TFLite interpreter, onnxruntime) and its probabilities on the
run's probe images are compared with the Keras model's; above the format's tolerance (largest
absolute difference of a probability: 1e-4 SavedModel and ONNX, 1e-3 TFLite) the export is
discarded and ExportCheckError says by how much it disagreed. A mixed-precision model is
exported (and compared) as its float32 copy.

The folder gets ``model.savedmodel/``, ``model.tflite`` or ``model.onnx``, plus
``labels.txt`` (one class name a line, in output order) and ``metadata.json``. All three are
written whole into a hidden staging folder and moved into place after the self-test, so a
full disk (one line: which file, how much space is free) leaves the earlier export as it was.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import shutil
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core import atomic
from cnnstudio.core.atomic import WriteFailed
from cnnstudio.core.errors import StudioError

FORMATS = {      # studio name → (Keras export format, file or folder written)
    "savedmodel": ("tf_saved_model", "model.savedmodel"),
    "tflite": ("litert", "model.tflite"),
    "onnx": ("onnx", "model.onnx"),
}
TOLERANCE = {"savedmodel": 1e-4, "tflite": 1e-3, "onnx": 1e-4}
EXTRA_HINT = 'pip install "cnnstudio[export]"'
OWN_FILES = {"labels.txt", "metadata.json", *(name for _, name in FORMATS.values())}
RANDOM_PROBES = 8      # stand-ins when a run has no probes/images.npz


class ExportCheckError(StudioError):
    """The export was written but disagreed with the Keras model: it is not kept."""

    def __init__(self, message: str, result: ExportResult):
        super().__init__(message)
        self.result = result


@dataclass
class ExportResult:
    format: str
    path: str               # the model file (or SavedModel folder)
    max_abs_diff: float     # largest |p_export − p_keras| over probe images and classes
    top1_agreement: float   # share of probe images whose top class is the same
    images: int             # how many probe images the self-test used
    tolerance: float
    folder: str

    @property
    def passed(self) -> bool:
        # Within the tolerance, the top class can only differ on a near-tie of two classes:
        # reported in top1_agreement, not a failure.
        return self.max_abs_diff <= self.tolerance

    def summary(self) -> dict:
        """What ``cnnstudio export --json`` prints."""
        return {"format": self.format, "max_abs_diff": self.max_abs_diff,
                "top1_agreement": self.top1_agreement, "path": self.path}


def check_format(fmt: str) -> str:
    name = str(fmt).strip().lower()
    if name not in FORMATS:
        raise StudioError(f"unknown export format '{fmt}' — choose one of "
                          f"{', '.join(FORMATS)}")
    if name == "onnx":
        missing = [m for m in ("tf2onnx", "onnx", "onnxruntime")
                   if importlib.util.find_spec(m) is None]
        if missing:
            raise StudioError(f"ONNX export needs {' and '.join(missing)}, not installed here: "
                              f"{EXTRA_HINT}")
    return name


def export_run(run_dir, fmt: str, out_dir, progress=None) -> ExportResult:
    """Write ``run_dir``'s model in ``fmt`` into ``out_dir`` and self-test it (see module doc).

    ``out_dir`` must be new, empty, or hold only an earlier export's files (replaced).
    ``progress(text)`` hears each stage. Raises StudioError for bad input and
    ExportCheckError when the reloaded export disagrees with the Keras model.
    """
    say = progress or (lambda text: None)
    fmt = check_format(fmt)
    source = _open_run(run_dir)
    out = _prepare_folder(out_dir)
    say(f"Loading the model of {source['folder'].path.name}…")
    from cnnstudio.core.predict import Predictor, load_model_file

    with warnings.catch_warnings():     # the optimizer's state: an export does not need it
        warnings.simplefilter("ignore")
        trained = load_model_file(source["model_file"])
    predictor = Predictor.for_model(trained, source["folder"].read_json("dataset.json", {}))
    model = float32_model(trained)
    images, probe_source = _probe_images(source["folder"].path, predictor.input_shape)
    expected = _keras_probabilities(model, images)

    keras_format, name = FORMATS[fmt]
    # Everything is written whole into a hidden staging folder first and only then moved
    # into place: a full disk or a failed self-test leaves the earlier export as it was.
    staging = out / f".partial-{fmt}"
    shutil.rmtree(staging, ignore_errors=True)
    with _writing(out / name):
        staging.mkdir()
    try:
        say(f"Writing {name}…")
        serving = serving_model(model, predictor.input_shape)
        serving(images[:1])           # ONNX export wants a model that has been called
        _keras_export(serving, keras_format, staging / name, out / name)
        say(f"Self-test: reloading {name} in its own runtime…")
        got, runtime = run_export(fmt, staging / name, images)
        result = _compare(fmt, expected, got, out / name, out)
        if not result.passed:
            raise ExportCheckError(
                f"the {fmt} export disagrees with the Keras model on {len(images)} probe "
                f"images: max |Δp| {result.max_abs_diff:.3g} (limit {result.tolerance:g}), "
                f"top-1 agreement {result.top1_agreement:.0%}; nothing was kept", result)
        meta = metadata(fmt, name, model, predictor, source, result, runtime, probe_source)
        meta["precision"] = {"export": "float32", "run": sorted(policies(trained))}
        _publish(staging, out, name, {
            "labels.txt": "".join(f"{c}\n" for c in predictor.class_names),
            "metadata.json": json.dumps(meta, indent=1, ensure_ascii=False)})
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say(f"Exported {fmt}: max |Δp| {result.max_abs_diff:.2g}, top-1 agreement "
        f"{result.top1_agreement:.0%} on {result.images} probe images")
    return result


def _publish(staging: Path, out: Path, name: str, texts: dict[str, str]) -> None:
    """Stage the text files beside the checked model and flush them all to the disk before
    anything moves: a full disk stops the export while ``out`` still holds the earlier one.
    The moves are renames, which need no space."""
    for file, text in texts.items():
        with _writing(out / file):
            (staging / file).write_text(text, encoding="utf-8")
    with _writing(out / name):
        atomic.sync(staging)
    for file in (name, *texts):
        with _writing(out / file):
            atomic.swap_in(staging / file, out / file)
    for _, other in FORMATS.values():      # an earlier export in another format goes
        if other != name and (out / other).exists():
            _remove(out / other)


def policies(model) -> set[str]:
    return {layer.dtype_policy.name for layer in model._flatten_layers()
            if getattr(layer, "dtype_policy", None) is not None}


def float32_model(model):
    """A float32 copy of a mixed-precision model (same weights: they are float32 already).
    Its float16 ops need TensorFlow's Flex delegate in TFLite, and ONNX export wants float32;
    the self-test then compares the export with this copy, the model actually exported."""
    if policies(model) <= {"float32"}:
        return model
    from cnnstudio.core.keras_setup import keras

    def as_float32(layer):
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    try:
        copy = keras().models.clone_model(model, clone_function=as_float32)
        copy.set_weights(model.get_weights())
    except Exception as exc:     # a subclassed model Keras cannot clone layer by layer
        raise StudioError(f"cannot make a float32 copy of this mixed-precision model for "
                          f"export: {_first_line(exc)}") from None
    return copy


def serving_model(model, shape):
    """``model`` behind a uint8 (N, H, W, C) input named ``image``: raw pixels in,
    probabilities out. Backend-neutral Keras, so ``model.export`` serves every format."""
    from cnnstudio.core.keras_setup import keras

    k = keras()
    image = k.Input(shape=tuple(shape), dtype="uint8", name="image")
    probs = model(k.ops.cast(image, "float32"))
    if isinstance(probs, (list, tuple)):      # a model with extra heads: the main one
        probs = probs[0]
    return k.Model(image, probs, name=f"{model.name}_export")


def run_export(fmt: str, path: Path, images: np.ndarray) -> tuple[np.ndarray, str]:
    """Probabilities of a written export on uint8 ``images``, and the runtime that ran it."""
    try:
        if fmt == "onnx":
            return _run_onnx(path, images)
        from cnnstudio.core import export_tf

        if fmt == "savedmodel":
            return export_tf.run_savedmodel(path, images)
        return export_tf.run_tflite(path, images)
    except StudioError:
        raise
    except Exception as exc:
        raise StudioError(f"the {fmt} export was written but cannot be run: "
                          f"{_first_line(exc)}") from None


def _run_onnx(path: Path, images: np.ndarray) -> tuple[np.ndarray, str]:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    probs = session.run(None, {name: images})[0]
    return np.asarray(probs, np.float64), f"onnxruntime {onnxruntime.__version__}"


def _open_run(run_dir) -> dict:
    from cnnstudio.core.families.profile import task_profile
    from cnnstudio.core.registry import ARCHITECTURES
    from cnnstudio.core.training.rundir import RunDir

    folder = RunDir.open(run_dir)
    config = folder.config()
    # An architecture this studio no longer knows is taken for a classifier.
    arch = ARCHITECTURES.find(config.model.id)
    task = arch.task if arch is not None else "classification"
    if not task_profile(task).exportable:
        raise StudioError(f"run {folder.path.name} is a {config.model.id} ({task}) run: "
                          "export takes classification runs")
    path = folder.model_path()
    if path is None:
        raise StudioError(f"run {folder.path.name} has no trained model to export "
                          "(no model.keras and no checkpoint)")
    return {"folder": folder, "config": config, "model_file": path}


def _prepare_folder(out_dir) -> Path:
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise StudioError(f"--out must be a folder, and {out} is a file")
    if out.is_dir():
        # Hidden names are skipped: a staging folder or temporary file a killed export
        # left (the next export replaces them) and the desktop's own (.DS_Store).
        others = sorted(p.name for p in out.iterdir()
                        if p.name not in OWN_FILES and not p.name.startswith("."))
        if others:
            raise StudioError(f"export folder {out} is not empty (it holds {others[0]}); "
                              "pick a new or empty folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudioError(f"cannot create export folder {out}: {exc.strerror}") from None
    return out


def _probe_images(run_dir: Path, shape) -> tuple[np.ndarray, str]:
    """The run's probe images (the insight panels' fixed set), else seeded random images."""
    from cnnstudio.core.probes.recorder import ProbeStore

    try:
        images, _ = ProbeStore(run_dir).images()
    except (OSError, KeyError, ValueError):
        images = None
    if images is not None and len(images) and images.shape[1:] == tuple(shape):
        return np.ascontiguousarray(images, np.uint8), "probes/images.npz"
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (RANDOM_PROBES, *shape), dtype=np.uint8), "random images (seed 0)"


def _keras_probabilities(model, images: np.ndarray) -> np.ndarray:
    probs = model.predict_on_batch(images.astype("float32"))
    if isinstance(probs, (list, tuple)):
        probs = probs[0]
    return np.asarray(probs, np.float64)


def _keras_export(serving, keras_format: str, path: Path, target: Path) -> None:
    try:
        # tf2onnx and TensorFlow print progress to stdout; keep stdout for --json.
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            serving.export(str(path), format=keras_format, verbose=False)
    except OSError as exc:           # a full disk, a read-only folder: say which, for target
        raise WriteFailed.of(target, exc) from None
    except Exception as exc:
        raise StudioError(f"cannot export to {keras_format}: {_first_line(exc)}") from None


@contextlib.contextmanager
def _writing(target: Path):
    """An OSError while staging names the file the user asked for, not its staging copy."""
    try:
        yield
    except OSError as exc:
        raise WriteFailed.of(target, exc) from None


def _compare(fmt, expected, got, path, folder) -> ExportResult:
    if got.shape != expected.shape:
        raise StudioError(f"the {fmt} export answers with shape {got.shape}, the Keras model "
                          f"with {expected.shape}")
    return ExportResult(
        format=fmt, path=str(path), folder=str(folder), images=len(expected),
        max_abs_diff=float(np.abs(got - expected).max()),
        top1_agreement=float(np.mean(got.argmax(1) == expected.argmax(1))),
        tolerance=TOLERANCE[fmt])


def _remove(path: Path) -> None:
    """An earlier export in another format (a file, or a SavedModel folder)."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def rescaling(model) -> dict | None:
    """The model's own 0–255 rescaling layer (the studio's classifiers start with one)."""
    for layer in getattr(model, "_flatten_layers", lambda: [])():
        if type(layer).__name__ == "Rescaling":
            return {"layer": layer.name, "scale": float(np.asarray(layer.scale)),
                    "offset": float(np.asarray(layer.offset))}
    return None


def metadata(fmt, name, model, predictor, source, result, runtime, probe_source) -> dict:
    height, width, channels = predictor.input_shape
    config, folder = source["config"], source["folder"]
    inside = "cast uint8 → float32"
    scale = rescaling(model)
    if scale:
        inside += f", then ×{scale['scale']:.6g} + {scale['offset']:g} (layer '{scale['layer']}')"
    else:
        inside += "; the model's own layers take 0–255 pixels"
    return {
        "format": fmt,
        "model_file": name,
        "input": {"name": "image", "shape": [None, height, width, channels], "dtype": "uint8",
                  "layout": "NHWC", "channels": "grey" if channels == 1 else "RGB",
                  "range": "0–255, raw pixels"},
        "output": {"shape": [None, len(predictor.class_names)], "dtype": "float32",
                   "meaning": "class probabilities (softmax), in labels.txt order"},
        "class_names": list(predictor.class_names),
        "preprocessing": {
            "inside_model": inside,
            "before_model": f"decode to RGB (or grey), resize to {width}×{height} (area "
                            "interpolation when shrinking, linear when enlarging), convert "
                            "channels (grey = OpenCV's RGB→grey); as "
                            "cnnstudio.core.imaging.fit_to_shape",
            # The studio's own predictions may also bring a photo to the training images'
            # form first (cnnstudio.core.photo_prep); say so, with the figures it uses.
            "photo_adaptation": "not in the export: cnnstudio predict brings photos to the "
                                "training images' form (polarity, lighting, centring) "
                                "from these training-set statistics; --raw skips it",
            "training_image_stats": folder.read_json("dataset.json", {}).get("image_stats"),
        },
        "source_run": {"path": str(folder.path), "name": folder.path.name,
                       "model_file": str(source["model_file"]), "model": config.model.id,
                       "dataset": config.dataset.id,
                       "test": folder.read_json("summary.json", {}).get("test", {})},
        "self_test": {"runtime": runtime, "images": result.images, "probe_source": probe_source,
                      "max_abs_diff": result.max_abs_diff,
                      "top1_agreement": result.top1_agreement, "tolerance": result.tolerance},
        "versions": _versions(fmt),
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _versions(fmt: str) -> dict:
    from importlib import metadata as md

    import cnnstudio

    names = ["tensorflow", "keras", "numpy"] + (["tf2onnx", "onnx", "onnxruntime"]
                                                if fmt == "onnx" else [])
    if fmt == "tflite":
        names.append("ai-edge-litert")
    found = {"cnnstudio": cnnstudio.__version__, "python": sys.version.split()[0]}
    for name in names:
        with contextlib.suppress(md.PackageNotFoundError):
            found[name] = md.version(name)
    return found


