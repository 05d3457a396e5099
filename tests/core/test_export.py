"""Exports of a tiny LeNet-5 run, each reloaded in its own runtime and compared with Keras."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from cnnstudio.core import export
from cnnstudio.core.config import RunConfig
from cnnstudio.core.errors import StudioError
from cnnstudio.core.export import ExportCheckError, export_run
from cnnstudio.core.probes.recorder import ProbeStore
from cnnstudio.core.training import engine
from cnnstudio.core.training.rundir import RunDir

HAS_ONNX = all(importlib.util.find_spec(m) for m in ("tf2onnx", "onnx", "onnxruntime"))
needs_onnx = pytest.mark.skipif(not HAS_ONNX, reason='the export extra is not installed '
                                                     '(pip install "cnnstudio[export]")')


def tiny_lenet_config(epochs=2) -> RunConfig:
    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 16}
    config.model.id, config.model.options = "lenet5", {}
    config.training.epochs, config.training.batch_size, config.training.seed = epochs, 32, 3
    return config


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    """Trained once for the module (a few seconds): digits at 16×16, two epochs."""
    result = engine.run(tiny_lenet_config(), runs_root=tmp_path_factory.mktemp("runs"))
    assert result.status == "finished"
    return result.run_dir


@pytest.mark.parametrize("fmt", ["savedmodel", "tflite",
                                 pytest.param("onnx", marks=needs_onnx)])
@pytest.mark.slow
def test_each_format_reloads_and_agrees_with_keras(lenet_run, tmp_path, fmt):
    out = tmp_path / "export"
    result = export_run(lenet_run, fmt, out)
    assert result.top1_agreement == 1.0
    assert result.max_abs_diff <= {"savedmodel": 1e-4, "tflite": 1e-3, "onnx": 1e-4}[fmt]
    assert result.images == 8          # the run's probe images
    model_file = {"savedmodel": "model.savedmodel", "tflite": "model.tflite",
                  "onnx": "model.onnx"}[fmt]
    assert result.path == str(out / model_file)
    assert (out / model_file).exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(["labels.txt", "metadata.json",
                                                            model_file])
    assert result.summary() == {"format": fmt, "max_abs_diff": result.max_abs_diff,
                                "top1_agreement": 1.0, "path": str(out / model_file)}


@pytest.fixture(scope="module")
def savedmodel(lenet_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "sm"
    return out, export_run(lenet_run, "savedmodel", out)


@pytest.mark.slow
def test_labels_and_metadata_describe_the_export(lenet_run, savedmodel):
    out, result = savedmodel
    assert (out / "labels.txt").read_text(encoding="utf-8") == "".join(f"{d}\n"
                                                                       for d in range(10))
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["format"] == "savedmodel" and meta["model_file"] == "model.savedmodel"
    assert meta["input"] == {"name": "image", "shape": [None, 16, 16, 1], "dtype": "uint8",
                             "layout": "NHWC", "channels": "grey", "range": "0–255, raw pixels"}
    assert meta["output"]["shape"] == [None, 10]
    assert meta["class_names"] == [str(d) for d in range(10)]
    assert "×0.00392157" in meta["preprocessing"]["inside_model"]     # LeNet's 1/255 layer
    assert "16×16" in meta["preprocessing"]["before_model"]
    assert "--raw" in meta["preprocessing"]["photo_adaptation"]
    source = meta["source_run"]
    assert source["path"] == str(lenet_run) and source["model"] == "lenet5"
    assert source["dataset"] == "digits" and source["model_file"].endswith("model.keras")
    assert 0 < source["test"]["accuracy"] <= 1
    check = meta["self_test"]
    assert check["images"] == 8 and check["probe_source"] == "probes/images.npz"
    assert check["max_abs_diff"] == result.max_abs_diff and check["tolerance"] == 1e-4
    assert check["runtime"].startswith("tf.saved_model")
    assert {"cnnstudio", "tensorflow", "keras"} <= set(meta["versions"])


def test_the_savedmodel_takes_raw_uint8_images_like_the_studio(lenet_run, savedmodel):
    """Raw pixels in, the Keras model's probabilities out: the cast sits inside the export."""
    import tensorflow as tf

    from cnnstudio.core.predict import Predictor

    out, _ = savedmodel
    images, _ = ProbeStore(lenet_run).images()
    assert images.dtype == np.uint8 and images.shape == (8, 16, 16, 1)
    serve = tf.saved_model.load(str(out / "model.savedmodel")).signatures[
        "serving_default"]
    got = next(iter(serve(image=tf.constant(images)).values())).numpy()
    studio = Predictor.from_run(lenet_run)
    want = studio.model.predict_on_batch(images.astype("float32"))
    np.testing.assert_allclose(got, want, atol=1e-6)


@pytest.mark.slow
def test_a_reexport_replaces_the_earlier_one_but_a_foreign_folder_is_refused(lenet_run,
                                                                             tmp_path):
    out = tmp_path / "tfl"
    export_run(lenet_run, "tflite", out)
    assert sorted(p.name for p in out.iterdir()) == ["labels.txt", "metadata.json",
                                                     "model.tflite"]
    export_run(lenet_run, "savedmodel", out)  # only an export there: replaced, one export
    assert sorted(p.name for p in out.iterdir()) == ["labels.txt", "metadata.json",
                                                     "model.savedmodel"]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(StudioError, match=r"is not empty \(it holds notes.txt\)"):
        export_run(lenet_run, "tflite", tmp_path / "mine")


@pytest.mark.slow
def test_an_export_that_disagrees_fails_loudly_and_is_not_kept(lenet_run, tmp_path,
                                                               monkeypatch):
    real = export.run_export

    def off_by_a_little(fmt, path, images):
        probs, runtime = real(fmt, path, images)
        return probs + 2e-3, runtime         # above TFLite's 1e-3

    monkeypatch.setattr(export, "run_export", off_by_a_little)
    with pytest.raises(ExportCheckError) as caught:
        export_run(lenet_run, "tflite", tmp_path / "bad")
    message = str(caught.value)
    assert "max |Δp| 0.002 (limit 0.001)" in message and "nothing was kept" in message
    assert caught.value.result.max_abs_diff == pytest.approx(2e-3, abs=1e-6)
    assert list((tmp_path / "bad").iterdir()) == []


def test_a_run_without_a_model_gives_one_clear_message(tmp_path):
    folder = RunDir.create(tiny_lenet_config(), tmp_path / "runs")
    with pytest.raises(StudioError) as caught:
        export_run(folder.path, "tflite", tmp_path / "out")
    assert str(caught.value) == (f"run {folder.path.name} has no trained model to export "
                                 "(no model.keras and no checkpoint)")
    assert not (tmp_path / "out").exists()


def test_an_unknown_format_gives_one_clear_message(tmp_path):
    with pytest.raises(StudioError) as caught:
        export_run(tmp_path, "coreml", tmp_path / "out")
    assert str(caught.value) == ("unknown export format 'coreml' — choose one of "
                                 "savedmodel, tflite, onnx")


def test_onnx_without_the_extra_names_it(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    with pytest.raises(StudioError) as caught:
        export_run(tmp_path, "onnx", tmp_path / "out")
    assert str(caught.value) == ("ONNX export needs onnxruntime, not installed here: "
                                 'pip install "cnnstudio[export]"')


def test_a_generative_run_is_refused(tmp_path):
    config = tiny_lenet_config()
    config.model.id = "dcgan"
    folder = RunDir.create(config, tmp_path / "runs")
    with pytest.raises(StudioError, match="export takes classification runs"):
        export_run(folder.path, "savedmodel", tmp_path / "out")


@pytest.mark.slow
def test_a_mixed_precision_run_exports_as_float32(tmp_path):
    """Its float16 ops would need TFLite's Flex delegate: the export is a float32 copy."""
    from cnnstudio.core.keras_setup import keras

    config = tiny_lenet_config(epochs=1)
    config.dataset.options = {"size": 12}
    config.training.mixed_precision = True
    try:
        run_dir = engine.run(config, runs_root=tmp_path / "runs").run_dir
    finally:
        keras().mixed_precision.set_global_policy("float32")    # the engine set it globally
    result = export_run(run_dir, "tflite", tmp_path / "out")
    assert result.top1_agreement == 1.0 and result.max_abs_diff <= 1e-3
    meta = json.loads((tmp_path / "out" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["precision"] == {"export": "float32", "run": ["float32", "mixed_float16"]}
