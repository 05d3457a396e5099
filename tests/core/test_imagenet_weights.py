"""ImageNet weights for transfer bases come through the studio's downloader: progress
events, Keras's cache file name in ~/.keras/models, the cached path handed to
keras.applications (which then downloads nothing), and a clear offline message."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from cnnstudio.core.datasets.keras_downloads import keras_cache_dir, progress_to
from cnnstudio.core.errors import ModelError
from cnnstudio.core.families.classification import transfer
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.core.training.events import Progress

NAME = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"   # Keras's name


def test_weight_file_names_and_urls_are_the_ones_keras_uses():
    assert transfer.weights_download("mobilenetv2", False, (32, 32, 3)).target == NAME
    assert transfer.weights_download("mobilenetv2", False, (160, 160, 3)).target == \
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5"
    vgg = transfer.weights_download("vgg16", True)
    assert vgg.origin == ("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
                          "vgg16_weights_tf_dim_ordering_tf_kernels.h5")
    assert transfer.weights_download("efficientnetb0", False).origin == \
        "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5"


@pytest.mark.slow
def test_weights_download_with_progress_then_load_from_the_cache(tmp_path, monkeypatch):
    from keras.src.legacy.saving import legacy_h5_format

    # A real weight file in Keras's legacy .h5 layout, served from a file:// "server".
    source = keras().applications.MobileNetV2(include_top=False, weights=None,
                                              input_shape=(32, 32, 3), pooling="avg")
    served = tmp_path / "server"
    served.mkdir()
    with h5py.File(served / NAME, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, source)
    _, stem, no_top = transfer.WEIGHT_FILES["mobilenetv2"]
    monkeypatch.setitem(transfer.WEIGHT_FILES, "mobilenetv2",
                        (served.as_uri() + "/", stem, no_top))
    events = []
    with progress_to(events.append):
        model = ARCHITECTURES.get("transfer").build((32, 32, 3), 3, {"base": "mobilenetv2"})
    downloads = [e for e in events if isinstance(e, Progress) and e.stage == "download"]
    assert downloads and "MobileNetV2 ImageNet weights" in downloads[-1].message
    assert downloads[-1].done == pytest.approx((served / NAME).stat().st_size / 1e6)
    assert (keras_cache_dir("models") / NAME).is_file()
    app = model.base.layers[-1]
    assert all(np.array_equal(a, b) for a, b in zip(app.get_weights(), source.get_weights(),
                                                    strict=True))
    events.clear()
    with progress_to(events.append):       # cached: built again without a download
        ARCHITECTURES.get("transfer").build((32, 32, 3), 3, {"base": "mobilenetv2"})
    assert not events


def test_offline_names_the_url_and_where_to_place_the_file():
    with pytest.raises(ModelError) as err:
        ARCHITECTURES.get("transfer").build((32, 32, 3), 2, {"base": "mobilenetv2"})
    message = str(err.value)
    assert "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/" + NAME \
        in message
    assert str(keras_cache_dir("models") / NAME) in message
    assert message.endswith("or set the option weights to 'none'")
