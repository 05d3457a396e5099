"""SVHN: the reader on tiny .mat files the test writes (label 10 → digit 0), the download
through the studio's downloader from a file:// "site", and the offline message."""

import numpy as np
import pytest
from scipy.io import savemat

from cnnstudio.core.config import DatasetConfig
from cnnstudio.core.datasets import DATASETS, load_dataset, svhn
from cnnstudio.core.datasets.keras_downloads import keras_cache_dir
from cnnstudio.core.errors import DataError
from cnnstudio.core.training.events import Progress


def _write_mat(path, labels, seed=0):
    """An SVHN-layout file: X (32, 32, 3, N) uint8, y (N, 1) with 10 for the digit 0."""
    x = np.random.default_rng(seed).integers(0, 256, (32, 32, 3, len(labels)), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(path, {"X": x, "y": np.asarray(labels, np.uint8).reshape(-1, 1)})
    return x


def test_reader_turns_label_10_into_0_and_keeps_images_as_height_width_channels(tmp_path):
    x = _write_mat(tmp_path / "tiny.mat", [10, 1, 9, 10, 5])
    images, labels = svhn.read_mat(tmp_path / "tiny.mat")
    assert labels.tolist() == [0, 1, 9, 0, 5] and labels.dtype == np.int32
    assert images.shape == (5, 32, 32, 3) and images.dtype == np.uint8
    assert np.array_equal(images[3], x[:, :, :, 3])


def test_svhn_loads_from_the_cache_folder():
    folder = keras_cache_dir() / "svhn"
    train = _write_mat(folder / "train_32x32.mat", [1, 2, 3, 10], seed=1)
    _write_mat(folder / "test_32x32.mat", [10, 4], seed=2)
    data = load_dataset(DatasetConfig("svhn"))
    assert data.input_shape == (32, 32, 3) and data.class_names[0] == "0"
    assert data.train.y.tolist() == [1, 2, 3, 0] and data.test.y.tolist() == [0, 4]
    assert np.array_equal(data.train.x[0], train[..., 0])
    assert DATASETS.get("svhn").needs_download


def test_a_bad_file_is_one_clear_message(tmp_path):
    path = tmp_path / "bad.mat"
    savemat(path, {"X": np.zeros((32, 32, 3, 2), np.uint8), "y": np.array([[0], [11]])})
    with pytest.raises(DataError, match=r"has labels outside 1\.\.10 \(0\.\.11\)"):
        svhn.read_mat(path)


def test_download_from_the_site_with_progress_then_the_cache(tmp_path, monkeypatch):
    site = tmp_path / "site"
    _write_mat(site / "train_32x32.mat", [10, 3])
    _write_mat(site / "test_32x32.mat", [7])
    monkeypatch.setattr(svhn, "SVHN_FILES", [
        svhn.Download(site.as_uri() + "/" + name, f"svhn/{name}")
        for name in ("train_32x32.mat", "test_32x32.mat")])
    events = []
    data = load_dataset(DatasetConfig("svhn"), events.append)
    assert data.train.y.tolist() == [0, 3] and data.test.y.tolist() == [7]
    messages = {e.message for e in events if isinstance(e, Progress) and e.stage == "download"}
    assert messages == {"downloading SVHN train_32x32.mat (MB)",
                        "downloading SVHN test_32x32.mat (MB)"}
    assert (keras_cache_dir() / "svhn" / "test_32x32.mat").is_file()
    events.clear()
    load_dataset(DatasetConfig("svhn"), events.append)      # cached: nothing downloaded
    assert not [e for e in events if isinstance(e, Progress) and e.stage == "download"]


def test_offline_the_message_names_both_files_their_url_and_where_to_put_them():
    with pytest.raises(DataError) as err:
        load_dataset(DatasetConfig("svhn"))
    message = str(err.value)
    assert message.startswith("cannot download SVHN train_32x32.mat (")
    for name in ("train_32x32.mat", "test_32x32.mat"):
        assert f"http://ufldl.stanford.edu/housenumbers/{name}" in message
        assert str(keras_cache_dir() / "svhn" / name) in message


def test_offline_with_the_training_file_in_place_names_only_the_test_file():
    _write_mat(keras_cache_dir() / "svhn" / "train_32x32.mat", [1])
    with pytest.raises(DataError) as err:
        load_dataset(DatasetConfig("svhn"))
    message = str(err.value)
    assert "http://ufldl.stanford.edu/housenumbers/test_32x32.mat" in message
    assert "train_32x32.mat" not in message
