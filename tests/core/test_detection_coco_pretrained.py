"""The pretrained COCO Mask R-CNN's loader on a tiny SavedModel the test writes in the zoo's
layout and signature (no download): COCO names, pasted masks, the offline message."""

import json
import tarfile
import urllib.error

import cv2
import numpy as np
import pytest

from cnnstudio import cli
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.detection import coco_pretrained as zoo

# Three detections out of a padded 5 (num_detections says 3): a person, a dog, an unused id.
BOXES = [[0.0, 0.0, 0.5, 0.5], [0.5, 0.25, 1.0, 0.75], [0.1, 0.1, 0.2, 0.2],
         [0, 0, 1, 1], [0, 0, 1, 1]]
CLASSES = [1.0, 18.0, 12.0, 1.0, 1.0]
SCORES = [0.9, 0.6, 0.8, 0.99, 0.99]


def _write_tiny_zoo_model(folder):
    import tensorflow as tf

    class TinyZoo(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8)])
        def __call__(self, images):
            masks = np.zeros((1, 5, 33, 33), np.float32)
            masks[0, 0] = 1.0                      # the person fills its box
            masks[0, 1, :, :16] = 1.0              # the dog: the left half of its box
            mean = tf.reduce_mean(tf.cast(images, tf.float32))  # uses the input
            return {"detection_boxes": tf.constant([BOXES], tf.float32),
                    "detection_classes": tf.constant([CLASSES], tf.float32),
                    "detection_scores": tf.constant([SCORES], tf.float32) + 0 * mean,
                    "detection_masks": tf.constant(masks),
                    "num_detections": tf.constant([3.0])}

    module = TinyZoo()
    tf.saved_model.save(module, str(folder / "saved_model"),
                        signatures={"serving_default": module.__call__})


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras"


def test_the_zoo_archive_loads_and_gives_coco_instances(keras_home, tmp_path, capsys):
    model_dir = tmp_path / zoo.MODEL_NAME
    model_dir.mkdir()
    _write_tiny_zoo_model(model_dir)
    zoo.archive_path().parent.mkdir(parents=True)
    with tarfile.open(zoo.archive_path(), "w:gz") as tar:   # the zoo's layout
        tar.add(model_dir, arcname=zoo.MODEL_NAME)
    assert zoo.is_cached()
    events = []
    photo, inst = zoo.detect(np.full((40, 64, 3), 100, np.uint8), events.append, min_score=0.5)
    assert events == []                                     # cached: nothing downloaded
    assert photo.shape == (40, 64, 3)
    assert inst.labels == ["person", "dog"]                 # id 12 is unused in COCO: dropped
    np.testing.assert_allclose(inst.scores, [0.9, 0.6])
    np.testing.assert_allclose(inst.boxes, [[0, 0, 20, 32], [20, 16, 40, 48]])
    expected = np.zeros((2, 40, 64), bool)
    expected[0, 0:20, 0:32] = True
    expected[1, 20:40, 16:32] = True                        # left half of the dog's box
    np.testing.assert_array_equal(inst.masks, expected)
    assert inst.extra["ms"] > 0
    assert zoo.COCO_CLASS_NAMES[90] == "toothbrush" and zoo.COCO_CLASS_NAMES[12] == ""

    # cnnstudio detect PHOTO --coco-pretrained --json: boxes in the photo's own pixels.
    big = tmp_path / "big.png"
    cv2.imwrite(str(big), np.full((1600, 2048, 3), 100, np.uint8))   # shrunk to 800×1024
    assert cli.main(["detect", str(big), "--coco-pretrained", "--json",
                     "--min-score", "0.7"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["detections"] == [{"box": [0.0, 0.0, 1024.0, 800.0], "label": "person",
                                  "score": 0.9}] and out["ms"] > 0


def test_offline_names_the_file_and_the_url(keras_home, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr("urllib.request.urlretrieve", offline)
    assert not zoo.is_cached()
    with pytest.raises(DataError) as err:
        zoo.fetch()
    text = str(err.value)
    assert zoo.ARCHIVE in text and zoo.URL in text and str(zoo.archive_path()) in text


def test_offline_names_the_zoo_folder_once_in_the_studio_and_on_the_cli(keras_home, tmp_path,
                                                                        monkeypatch, capsys):
    # Issue 22: the message named ".../detection-zoo/detection-zoo/<model>".
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr("urllib.request.urlretrieve", offline)
    folder = keras_home / "models" / "detection-zoo"
    expected = (f"cannot download {zoo.ARCHIVE} (no network); offline, fetch {zoo.URL} "
                f"elsewhere and place it at {folder / zoo.ARCHIVE} (or its extracted contents "
                f"in {folder / zoo.MODEL_NAME})")
    assert zoo.archive_path() == folder / zoo.ARCHIVE
    assert zoo.model_folder() == folder / zoo.MODEL_NAME
    with pytest.raises(DataError) as err:
        zoo.fetch()
    assert str(err.value) == expected
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.full((40, 64, 3), 100, np.uint8))
    assert cli.main(["detect", str(photo), "--coco-pretrained"]) == 2
    printed = capsys.readouterr().err
    assert expected in printed and "detection-zoo/detection-zoo" not in printed


def test_large_photos_are_shrunk_and_bad_outputs_named():
    assert zoo.shrink(np.zeros((3000, 1500), np.uint8)).shape == (1024, 512, 3)
    with pytest.raises(DataError, match="detection_boxes"):
        zoo.to_instances({"num_detections": [1]}, 10, 10)
