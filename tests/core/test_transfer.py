"""Transfer learning: keras.applications bases, the book's four cases, cached bottlenecks."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from cnnstudio.core.config import ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.datasets import dataset_config
from cnnstudio.core.errors import ModelError
from cnnstudio.core.families.classification.transfer import BASES
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.core.training import engine
from cnnstudio.core.training.events import Notice

ARCH = ARCHITECTURES.get("transfer")


def _trainable(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def _head(features, classes, units=256):
    return features * units + units + units * classes + classes


@pytest.mark.slow
@pytest.mark.parametrize("base", sorted(BASES))
def test_each_base_matches_keras_applications(base):
    name, _, side, _ = BASES[base]
    shape = (side, side, 3)
    model = ARCH.build(shape, 5, {"base": base, "weights": "none"})
    reference = getattr(keras().applications, name)(include_top=False, weights=None,
                                                    input_shape=shape, pooling="avg")
    dim = reference.output.shape[-1]
    assert model.count_params() == reference.count_params() + _head(dim, 5)
    # Feature extraction: only the new head learns.
    assert _trainable(model) == _head(dim, 5)
    assert tuple(model(np.zeros((2, *shape), "float32")).shape) == (2, 5)


def test_the_four_cases_set_what_trains():
    opts = {"base": "vgg16", "weights": "none"}
    shape = (32, 32, 3)
    fe = ARCH.build(shape, 2, {**opts, "mode": "feature-extraction"})
    top = ARCH.build(shape, 2, {**opts, "mode": "fine-tune-top", "top_n": 1})
    top2 = ARCH.build(shape, 2, {**opts, "mode": "fine-tune-top", "top_n": 2})
    full = ARCH.build(shape, 2, {**opts, "mode": "fine-tune-all"})
    scratch = ARCH.build(shape, 2, {**opts, "mode": "scratch"})
    head = _head(512, 2)
    block5 = 3 * (9 * 512 * 512 + 512)
    block4 = 9 * 256 * 512 + 512 + 2 * (9 * 512 * 512 + 512)
    assert _trainable(fe) == head
    assert _trainable(top) == head + block5
    assert _trainable(top2) == head + block5 + block4
    assert _trainable(full) == _trainable(scratch) == full.count_params() == 14_714_688 + head


def test_fine_tune_top_keeps_batch_norm_frozen():
    model = ARCH.build((32, 32, 3), 3, {"base": "mobilenetv2", "weights": "none",
                                        "mode": "fine-tune-top", "top_n": 2})
    app = model.base.layers[-1]
    trainable = [layer.name for layer in app.layers if layer.trainable and layer.weights]
    assert trainable and all(n.startswith(("block_16", "Conv_1")) for n in trainable)
    assert not any(isinstance(app.get_layer(n), keras().layers.BatchNormalization)
                   for n in trainable)


def test_refusals_are_clear():
    with pytest.raises(ModelError, match="InceptionV3 needs inputs of at least 75×75, got 32×32"):
        ARCH.build((32, 32, 3), 2, {"base": "inceptionv3", "weights": "none"})
    with pytest.raises(ModelError, match="transfer: mode must be one of feature-extraction, fine-tune-top, fine-tune-all, scratch, got 'freeze'"):
        ARCH.build((32, 32, 3), 2, {"mode": "freeze", "weights": "none"})
    with pytest.raises(ModelError, match="base must be one of .*, got 'vgg19' \\(did you mean 'vgg16'\\?\\)"):
        ARCH.build((32, 32, 3), 2, {"base": "vgg19", "weights": "none"})


def test_imagenet_weights_offline_give_a_clear_message():
    with pytest.raises(ModelError) as err:
        ARCH.build((32, 32, 3), 2, {"base": "mobilenetv2"})
    message = str(err.value)
    assert message.startswith("the ImageNet weights for MobileNetV2 are not on this computer "
                              "and could not be downloaded")
    assert "set the option weights to 'none'" in message


@pytest.mark.slow
def test_saved_transfer_model_reloads_with_the_same_predictions(tmp_path):
    model = ARCH.build((32, 32, 1), 3, {"base": "mobilenetv2", "weights": "none",
                                        "head_units": 16})
    x = np.random.default_rng(0).integers(0, 255, (2, 32, 32, 1)).astype("float32")
    model.save(tmp_path / "m.keras")
    again = keras().saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(again.predict_on_batch(x), model.predict_on_batch(x), atol=1e-5)


def _bars(root, per_class=16):
    """Three classes of 40×40 photos: a bright bar at the top, middle or bottom."""
    rng = np.random.default_rng(0)
    for k in range(3):
        (root / f"bar{k}").mkdir(parents=True)
        for i in range(per_class):
            image = rng.integers(0, 80, (40, 40, 3), dtype=np.uint8)
            image[4 + 12 * k:14 + 12 * k] = 230
            cv2.imwrite(str(root / f"bar{k}" / f"{i}.png"), image)
    return root


@pytest.mark.slow
def test_feature_extraction_trains_the_head_on_cached_bottlenecks(tmp_path):
    # A random VGG16 (no batch norm to collapse) still gives separable features.
    cfg = RunConfig(
        dataset=dataset_config(str(_bars(tmp_path / "bars")), image_size=32, test_fraction=0.25),
        model=ModelConfig("transfer", {"base": "vgg16", "weights": "none",
                                       "head_units": 64, "dropout": 0.0}),
        training=TrainConfig(epochs=12, batch_size=8, learning_rate=1e-2, validation_split=0.0))
    events = []
    result = engine.run(cfg, runs_root=tmp_path, sink=events.append)
    assert result.status == "finished", result.summary
    cached = [e.message for e in events if isinstance(e, Notice) and "bottleneck" in e.message]
    n_train = json.loads((result.run_dir / "dataset.json").read_text())["num_train"]
    assert cached and cached[0].startswith(f"cached {n_train} bottleneck features of size 512")
    assert result.summary["test"]["accuracy"] >= 0.8
    model = json.loads((result.run_dir / "model.json").read_text())
    # The layer table opens the base and the head one level: the pretrained network stays
    # one row, beside its preprocessing and the head's own layers.
    assert [row["name"] for row in model["layers"]] == [
        "vgg16_base/image", "vgg16_base/preprocess", "vgg16_base/vgg16", "head/features",
        "head/head_fc", "head/head_dropout", "head/predictions"]
    saved = keras().saving.load_model(result.run_dir / "model.keras", safe_mode=True)
    assert saved.predict_on_batch(np.zeros((1, 32, 32, 3), "float32")).shape == (1, 3)
