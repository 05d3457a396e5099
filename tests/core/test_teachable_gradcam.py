"""Grad-CAM on an imported Teachable Machine model: the last conv layer sits inside a
nested MobileNet-style base (Sequential ▸ Sequential ▸ functional model), and the heat map
is the one computed by hand through those nested models."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cnnstudio.core.keras_setup import keras
from cnnstudio.core.probes import gradcam
from cnnstudio.core.probes.autodiff import compiled_value_and_grads
from tests.core.test_teachable_import import _add_groups

NAMES = ["Cats", "Dogs", "Empty desk"]
CONV = "sequential_4/sequential_1/model1/Conv_1"


def write_export(folder, names=NAMES, seed=3):
    """keras_model.h5 + labels.txt as TM's exporter writes them (see test_teachable_import):
    a Sequential of a feature Sequential (a functional base ending in a 1×1 conv, as
    MobileNetV2's Conv_1, then pooling) and a head Sequential, with "groups": 1 added."""
    k = keras()
    layers = k.layers
    k.utils.set_random_seed(seed)
    image = k.Input((224, 224, 3))
    x = layers.Conv2D(4, 4, strides=4, name="Conv1")(image)
    x = layers.DepthwiseConv2D(3, padding="same", name="expanded_conv_depthwise")(x)
    x = layers.ReLU(6.0)(x)
    x = layers.Conv2D(6, 1, strides=2, name="Conv_1")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    base = k.Model(image, x, name="model1")
    features = k.Sequential([base, layers.GlobalAveragePooling2D()], name="sequential_1")
    head = k.Sequential([layers.Dense(8, activation="relu"),
                         layers.Dense(len(names), activation="softmax", use_bias=False)],
                        name="sequential_3")
    model = k.Sequential([k.Input((224, 224, 3)), features, head], name="sequential_4")
    # Signs as a trained model's would be for class 0: its evidence adds up through the
    # ReLUs (random signs can leave every position negative, and Grad-CAM rightly all 0).
    for layer in (base.get_layer("Conv_1"), head.layers[0]):
        layer.kernel.assign(np.abs(layer.kernel.numpy()))
    last = head.layers[1].kernel.numpy()
    last[:, 0], last[:, 1:] = np.abs(last[:, 0]), -np.abs(last[:, 1:])
    head.layers[1].kernel.assign(last)
    h5 = folder / "keras_model.h5"
    model.save(h5)
    assert _add_groups(h5) == 1
    labels = folder / "labels.txt"
    labels.write_text("".join(f"{i} {n}\n" for i, n in enumerate(names)), encoding="utf-8")
    return h5, labels


def photo(seed=0) -> np.ndarray:
    """A smooth colour field with a bright disc: structure for the map to follow."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    picture = cv2.resize(small, (224, 224), interpolation=cv2.INTER_LINEAR)
    cv2.circle(picture, (150, 70), 30, (255, 255, 255), -1)
    return picture


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    from cnnstudio.core.families.classification.teachable_import import import_teachable
    from cnnstudio.core.predict import load_model_file

    folder = tmp_path_factory.mktemp("converted_keras")
    h5, labels = write_export(folder)
    run = import_teachable(h5, labels, runs_root=tmp_path_factory.mktemp("runs"))
    return load_model_file(run / "model.keras")


def _by_hand(model, image, class_index):
    """The Grad-CAM of Conv_1 computed by calling the nested models' parts one by one."""
    k = keras()
    seq4 = model.get_layer("sequential_4")
    seq1, seq3 = seq4.get_layer("sequential_1"), seq4.get_layer("sequential_3")
    base = seq1.get_layer("model1")
    to_conv = k.Model(base.inputs, base.get_layer("Conv_1").output)
    hidden, last = seq3.layers

    def fn(x, _arg):
        conv = to_conv(x / 127.5 - 1.0)
        pooled = seq1.layers[-1](base.get_layer("out_relu")(conv))
        logits = k.ops.matmul(hidden(pooled), last.kernel)
        return k.ops.sum(logits[:, class_index]), [conv], ()

    _, _, (grad,), (conv,), _ = compiled_value_and_grads(fn)(image[None].astype(np.float32))
    return np.maximum((conv[0] * grad[0].mean(axis=(0, 1))).sum(axis=-1), 0.0)


def test_grad_cam_finds_the_last_conv_inside_the_nested_base(imported):
    assert gradcam.default_layer(imported) == CONV
    image = photo()
    result = gradcam.grad_cam(imported, image)
    assert result.layer == CONV and result.method == "grad-cam"
    assert result.heatmap.shape == (224, 224) and result.raw.shape == (28, 28)
    assert result.heatmap.min() >= 0.0 and result.heatmap.max() == pytest.approx(1.0)
    assert result.heatmap.std() > 0.05                       # a map, not a flat field
    want = np.asarray(imported.predict(image[None].astype(np.float32), verbose=0))[0]
    np.testing.assert_allclose(result.probabilities, want, atol=1e-5)
    assert result.class_index == int(np.argmax(want))
    np.testing.assert_allclose(result.raw, _by_hand(imported, image, result.class_index),
                               rtol=1e-4, atol=1e-6)


def test_any_class_and_the_bare_layer_name(imported):
    image = photo(1)
    for c in range(len(NAMES)):
        result = gradcam.grad_cam(imported, image, class_index=c, layer="Conv_1")
        assert result.layer == "Conv_1" and result.class_index == c
        np.testing.assert_allclose(result.raw, _by_hand(imported, image, c), rtol=1e-4,
                                   atol=1e-6)


def test_the_model_still_saves_and_predicts_the_same(imported, tmp_path):
    from cnnstudio.core.predict import load_model_file

    image = photo(2)[None].astype(np.float32)
    gradcam.grad_cam(imported, image[0])
    imported.save(tmp_path / "again.keras")
    again = load_model_file(tmp_path / "again.keras")
    np.testing.assert_allclose(again.predict(image, verbose=0),
                               imported.predict(image, verbose=0), atol=1e-6)
