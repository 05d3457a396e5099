"""A Teachable Machine Keras export opens in Keras 3 as a run that predicts like TM.

The export is built the way TM's exporter (tf.keras 2) writes it: a Sequential of a feature
Sequential (a MobileNet-like functional base with a DepthwiseConv2D, then pooling) and a
head Sequential, saved as legacy HDF5, whose DepthwiseConv2D configs carry "groups": 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest

from cnnstudio.cli import main
from cnnstudio.core.errors import DataError, StudioError
from cnnstudio.core.families.classification import teachable_import as tm
from cnnstudio.core.imaging import read_image
from cnnstudio.core.keras_setup import keras

NAMES = ["Cats", "Dogs", "Empty desk"]


def _add_groups(path) -> int:
    """What tf.keras 2 wrote into every DepthwiseConv2D config, and Keras 3 rejects."""
    added = 0
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])

        def walk(node):
            nonlocal added
            if isinstance(node, dict):
                if node.get("class_name") == "DepthwiseConv2D":
                    node["config"]["groups"] = 1
                    added += 1
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(config)
        f.attrs["model_config"] = json.dumps(config).encode("utf-8")   # tf.keras: bytes
    return added


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    k = keras()
    layers = k.layers
    k.utils.set_random_seed(3)
    folder = tmp_path_factory.mktemp("converted_keras")
    image = k.Input((224, 224, 3))
    x = layers.Conv2D(4, 3, strides=4, name="Conv1")(image)
    x = layers.DepthwiseConv2D(3, padding="same", name="expanded_conv_depthwise")(x)
    x = layers.ReLU(6.0)(x)
    base = k.Model(image, x, name="model1")
    features = k.Sequential([base, layers.GlobalAveragePooling2D()], name="sequential_1")
    head = k.Sequential([layers.Dense(8, activation="relu"),
                         layers.Dense(len(NAMES), activation="softmax", use_bias=False)],
                        name="sequential_3")
    model = k.Sequential([k.Input((224, 224, 3)), features, head], name="sequential_4")
    h5 = folder / "keras_model.h5"
    model.save(h5)
    assert _add_groups(h5) == 1
    labels = folder / "labels.txt"
    labels.write_text("".join(f"{i} {n}\n" for i, n in enumerate(NAMES)), encoding="utf-8")
    rng = np.random.default_rng(0)
    images = []
    for i in range(4):        # smooth colour fields: different classes are likely
        small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
        picture = cv2.resize(small, (224, 224), interpolation=cv2.INTER_LINEAR)
        path = folder / f"photo{i}.png"
        cv2.imwrite(str(path), picture)
        images.append(path)
    return h5, labels, model, images


def test_plain_keras3_rejects_the_export(export):
    h5 = export[0]
    with pytest.raises(Exception, match="groups"):
        keras().models.load_model(h5, compile=False)


def test_imported_run_predicts_like_the_export_on_minus1_1_inputs(export, runs_root):
    from cnnstudio.core.predict import Predictor
    from cnnstudio.core.training.rundir import RunDir

    h5, labels, original, images = export
    run = tm.import_teachable(h5, labels, runs_root=runs_root, name="desk")
    folder = RunDir.open(run)
    assert run.parent == runs_root and run.name.endswith("-teachable-machine-imported-desk")
    assert folder.status() == "finished"
    info = folder.read_json("dataset.json")
    assert info["class_names"] == NAMES and info["input_shape"] == [224, 224, 3]
    assert info["preprocessing"]["scale"] == pytest.approx(1 / 127.5)
    assert info["preprocessing"]["offset"] == -1.0
    assert folder.read_json("summary.json")["status"] == "finished"
    assert folder.read_json("model.json")["params"] == original.count_params()
    assert folder.config().model.id == "imported"

    predictor = Predictor.from_run(run)
    assert predictor.class_names == NAMES
    pixels = [read_image(p) for p in images]
    got = predictor.probabilities(pixels)
    want = np.asarray(original.predict(np.stack(pixels).astype(np.float32) / 127.5 - 1.0,
                                       verbose=0))
    np.testing.assert_allclose(got, want, atol=1e-5)
    # Not merely a model that ignores the scaling: raw pixels would give other answers.
    raw = np.asarray(original.predict(np.stack(pixels).astype(np.float32), verbose=0))
    assert np.abs(raw - want).max() > 1e-3

    assert main(["predict", str(run), *map(str, images), "--json"]) == 0


def test_cli_prints_the_run_and_predict_answers(export, runs_root, capsys):
    h5, labels, original, images = export
    assert main(["import-tm", str(h5), str(labels), "--runs-root", str(runs_root)]) == 0
    run = capsys.readouterr().out.strip().splitlines()[-1]
    assert Path(run).parent == runs_root and Path(run).is_dir()
    assert main(["predict", run, str(images[0]), "--json", "--top", "3"]) == 0
    top = json.loads(capsys.readouterr().out.strip().splitlines()[-1])[0]["top"]
    want = np.asarray(original.predict(read_image(images[0])[None].astype(np.float32)
                                       / 127.5 - 1.0, verbose=0))[0]
    assert [t["class"] for t in top] == [NAMES[i] for i in np.argsort(-want, kind="stable")]
    assert top[0]["probability"] == pytest.approx(float(want.max()), abs=1e-5)


def test_labels_plain_or_numbered(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("\ufeff0 Red apple\n1  Pear \n\n", encoding="utf-8")
    assert tm.read_labels(path) == ["Red apple", "Pear"]
    path.write_text("apple\npear\n", encoding="utf-8")
    assert tm.read_labels(path) == ["apple", "pear"]
    path.write_text("0 apple\n2 pear\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2: expected class number 1, got 2"):
        tm.read_labels(path)
    path.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(DataError, match="names no classes"):
        tm.read_labels(path)


def test_one_clear_message_per_mistake(export, tmp_path, runs_root, capsys):
    h5, labels = export[0], export[1]
    with pytest.raises(DataError, match="Teachable Machine model not found"):
        tm.import_teachable(tmp_path / "nope.h5", labels, runs_root=runs_root)
    with pytest.raises(DataError, match="labels file not found"):
        tm.import_teachable(h5, tmp_path / "nope.txt", runs_root=runs_root)
    text = tmp_path / "keras_model.h5"
    text.write_text("not a model", encoding="utf-8")
    with pytest.raises(DataError, match="is not a Keras HDF5 model"):
        tm.import_teachable(text, labels, runs_root=runs_root)
    weights = tmp_path / "weights.h5"
    with h5py.File(weights, "w") as f:
        f["w"] = np.zeros(3)
    with pytest.raises(DataError, match="holds no model, only weights"):
        tm.import_teachable(weights, labels, runs_root=runs_root)
    two = tmp_path / "labels2.txt"
    two.write_text("0 Cats\n1 Dogs\n", encoding="utf-8")
    with pytest.raises(DataError, match="gives 3 class scores but labels2.txt names 2 "
                                        "classes"):
        tm.import_teachable(h5, two, runs_root=runs_root)
    assert list(runs_root.iterdir()) == []            # no half run written by any of them
    assert main(["import-tm", str(h5), str(two), "--runs-root", str(runs_root)]) == 2
    assert "names 2 classes" in capsys.readouterr().err


def test_code_in_the_file_is_refused(tmp_path, runs_root):
    k = keras()
    image = k.Input((8, 8, 3))
    out = k.layers.Dense(2, activation="softmax")(
        k.layers.GlobalAveragePooling2D()(k.layers.Lambda(lambda t: t * 2.0)(image)))
    path = tmp_path / "keras_model.h5"
    k.Model(image, out).save(path)
    labels = tmp_path / "labels.txt"
    labels.write_text("0 a\n1 b\n", encoding="utf-8")
    with pytest.raises(StudioError, match="refused to load keras_model.h5"):
        tm.import_teachable(path, labels, runs_root=runs_root)
