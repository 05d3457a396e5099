"""ImageNet top-5 for a dropped image (chapter 4's VGG16 demo): decoding against the class
list Keras uses, the Predictor's view of which runs qualify, and clear offline messages.
Nothing is downloaded: the class list is a small fake in the test's own KERAS_HOME."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.core.config import RunConfig
from cnnstudio.core.datasets.keras_downloads import keras_cache_dir
from cnnstudio.core.errors import ModelError, StudioError
from cnnstudio.core.families.classification import transfer
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.predict import Predictor, imagenet_base_of
from cnnstudio.core.training.rundir import RunDir

# Five classes made clearly ahead of the other 995, in a known order.
WINNERS = {417: 0.30, 3: 0.25, 999: 0.20, 0: 0.10, 500: 0.05}


def write_fake_class_index() -> None:
    """The same layout as imagenet_class_index.json: {"i": [wordnet id, name]}."""
    folder = keras_cache_dir("models")
    folder.mkdir(parents=True, exist_ok=True)
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    (folder / "imagenet_class_index.json").write_text(json.dumps(index))


def stand_in_classifier(size=32):
    """A 1000-way 'ImageNet classifier' whose softmax is WINNERS whatever the image:
    zero kernel, bias log(p), so softmax(bias) = p exactly."""
    k = keras()
    probs = np.full(1000, (1 - sum(WINNERS.values())) / 995)
    for i, p in WINNERS.items():
        probs[i] = p
    inputs = k.Input((size, size, 3))
    x = k.layers.GlobalAveragePooling2D()(inputs)
    dense = k.layers.Dense(1000, activation="softmax")
    model = k.Model(inputs, dense(x))
    dense.set_weights([np.zeros((3, 1000)), np.log(probs)])
    return model


def test_top5_names_and_order_follow_the_probabilities():
    write_fake_class_index()
    image = np.random.default_rng(0).integers(0, 255, (50, 40, 3), dtype=np.uint8)
    top = transfer.top5_from_model(stand_in_classifier(), image, "vgg16")
    assert [name for name, _ in top] == ["class_417", "class_3", "class_999", "class_0",
                                         "class_500"]
    np.testing.assert_allclose([p for _, p in top], list(WINNERS.values()), rtol=1e-4)


def test_offline_class_list_names_the_file_and_url():
    with pytest.raises(ModelError) as err:
        transfer.imagenet_class_names()
    message = str(err.value)
    assert "ImageNet top-5 needs the class list" in message
    assert transfer.CLASS_INDEX_URL in message
    assert str(keras_cache_dir("models") / "imagenet_class_index.json") in message


def test_offline_imagenet_head_names_the_weight_file_and_url():
    write_fake_class_index()
    with pytest.raises(ModelError) as err:
        transfer.imagenet_top5(np.zeros((8, 8, 3), np.uint8), "vgg16")
    message = str(err.value)
    url = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
           "vgg16_weights_tf_dim_ordering_tf_kernels.h5")
    assert message.startswith("the ImageNet weights for VGG16 are not on this computer")
    assert url in message
    assert str(keras_cache_dir("models") / "vgg16_weights_tf_dim_ordering_tf_kernels.h5") \
        in message


@pytest.mark.parametrize("model_id,options,expected", [
    ("transfer", {"base": "vgg16", "weights": "imagenet"}, "vgg16"),
    ("transfer", {}, "mobilenetv2"),                      # the defaults: ImageNet weights
    ("transfer", {"base": "vgg16", "weights": "none"}, None),
    ("transfer", {"base": "vgg16", "mode": "scratch"}, None),
    ("lenet5", {}, None),
])
def test_which_runs_offer_imagenet_top5(tmp_path, model_id, options, expected):
    config = RunConfig()
    config.model.id, config.model.options = model_id, options
    folder = RunDir.create(config, path=tmp_path / "run")
    assert imagenet_base_of(folder) == expected


def test_predictor_refuses_imagenet_top5_for_other_models():
    predictor = Predictor(stand_in_classifier(), [str(i) for i in range(1000)], (32, 32, 3))
    with pytest.raises(StudioError, match="weights=imagenet"):
        transfer.predictor_top5(predictor, np.zeros((32, 32, 3), np.uint8))


def test_the_imagenet_classifier_is_built_once_per_predictor(monkeypatch):
    write_fake_class_index()
    built = []
    monkeypatch.setattr(transfer, "imagenet_classifier",
                        lambda base, progress=None: built.append(base) or stand_in_classifier())
    predictor = Predictor(stand_in_classifier(), [str(i) for i in range(1000)], (32, 32, 3),
                          imagenet_base="vgg16")
    image = np.zeros((40, 50, 3), np.uint8)
    first = transfer.predictor_top5(predictor, image)
    second = transfer.predictor_top5(predictor, image)
    assert built == ["vgg16"]
    assert first == second and first[0][0] == "class_417"
