"""The pretrained COCO Mask R-CNN for real photos (book chapter 7's demo).

The TensorFlow 2 Detection Zoo's "Mask R-CNN Inception ResNet V2 1024x1024" (COCO
39.0 box / 34.6 mask mAP) is a SavedModel in a ``.tar.gz``. It is downloaded on request
through the studio's downloader (progress events; cached in
``$KERAS_HOME/models/detection-zoo``; offline, one message naming the file, its URL and
where to place it) and loaded with ``tf.saved_model.load`` in ``coco_pretrained_tf.py``
(Keras's ``load_model`` cannot read zoo SavedModels). Its outputs — normalised boxes,
1-based COCO ids (90-id map), scores and box-relative 33×33 masks — become the family's
``Instances`` here, in numpy.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from cnnstudio.core.datasets.keras_downloads import Download, ensure, keras_cache_dir
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.detection.instances import Instances, paste_masks

MODEL_NAME = "mask_rcnn_inception_resnet_v2_1024x1024_coco17_gpu-8"
ARCHIVE = f"{MODEL_NAME}.tar.gz"
URL = f"http://download.tensorflow.org/models/object_detection/tf2/20200711/{ARCHIVE}"
TITLE = "COCO Mask R-CNN (Inception ResNet V2, 1024×1024, TF2 Detection Zoo)"
SIZE_TEXT = "about 250 MB"
# Kept in $KERAS_HOME/models/detection-zoo: the archive and, beside it, its unpacked folder.
# The folder is the cache dir (``subdir``) and the names are plain file names, because the
# downloader's offline message places the unpacked folder beside the archive: a folder in
# both names would be named twice there (".../detection-zoo/detection-zoo/...").
ZOO_DIR = "models/detection-zoo"
DOWNLOAD = Download(URL, ARCHIVE, extract_to=MODEL_NAME, subdir=ZOO_DIR)
# The model resizes every image to 1024 px itself; larger photos are shrunk first so the
# pasted full-image masks stay small (100 masks of a 12-megapixel photo would be 1.2 GB).
MAX_SIDE = 1024
DEFAULT_MIN_SCORE = 0.05

_COCO_IDS = {
    1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 5: "airplane", 6: "bus", 7: "train",
    8: "truck", 9: "boat", 10: "traffic light", 11: "fire hydrant", 13: "stop sign",
    14: "parking meter", 15: "bench", 16: "bird", 17: "cat", 18: "dog", 19: "horse",
    20: "sheep", 21: "cow", 22: "elephant", 23: "bear", 24: "zebra", 25: "giraffe",
    27: "backpack", 28: "umbrella", 31: "handbag", 32: "tie", 33: "suitcase", 34: "frisbee",
    35: "skis", 36: "snowboard", 37: "sports ball", 38: "kite", 39: "baseball bat",
    40: "baseball glove", 41: "skateboard", 42: "surfboard", 43: "tennis racket",
    44: "bottle", 46: "wine glass", 47: "cup", 48: "fork", 49: "knife", 50: "spoon",
    51: "bowl", 52: "banana", 53: "apple", 54: "sandwich", 55: "orange", 56: "broccoli",
    57: "carrot", 58: "hot dog", 59: "pizza", 60: "donut", 61: "cake", 62: "chair",
    63: "couch", 64: "potted plant", 65: "bed", 67: "dining table", 70: "toilet", 72: "tv",
    73: "laptop", 74: "mouse", 75: "remote", 76: "keyboard", 77: "cell phone",
    78: "microwave", 79: "oven", 80: "toaster", 81: "sink", 82: "refrigerator", 84: "book",
    85: "clock", 86: "vase", 87: "scissors", 88: "teddy bear", 89: "hair drier",
    90: "toothbrush",
}
# Indexed by COCO id; the ten ids COCO never used stay "" (no detection carries them).
COCO_CLASS_NAMES = ["background"] + [_COCO_IDS.get(i, "") for i in range(1, 91)]


def is_cached() -> bool:
    """Whether the model is on disk already (so asking to use it downloads nothing)."""
    return model_folder().exists() or archive_path().exists()


def archive_path() -> Path:
    return keras_cache_dir(DOWNLOAD.subdir) / DOWNLOAD.target


def model_folder() -> Path:
    """Where the unpacked archive lives (beside the archive)."""
    return keras_cache_dir(DOWNLOAD.subdir) / DOWNLOAD.extract_to


def saved_model_dir(root: Path) -> Path:
    """The folder holding ``saved_model.pb`` inside an extracted zoo archive."""
    found = sorted(Path(root).rglob("saved_model.pb"))
    if not found:
        raise DataError(f"{root} holds no saved_model.pb; delete it (and {archive_path()}) to "
                        f"download {ARCHIVE} again from {URL}")
    return found[0].parent


def fetch(progress=None) -> Path:
    """The SavedModel folder, downloading and unpacking the archive first if needed."""
    return saved_model_dir(ensure(DOWNLOAD, progress, ARCHIVE))


def shrink(image: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    """uint8 RGB no larger than ``max_side`` on its long side (grey → RGB, alpha dropped)."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    image = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
    h, w = image.shape[:2]
    if max(h, w) > max_side:
        scale = max_side / max(h, w)
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA)
    return image


def to_instances(outputs: dict, height: int, width: int,
                 min_score: float = DEFAULT_MIN_SCORE) -> Instances:
    """Zoo outputs (batch of one, numpy) → Instances with COCO names and pasted masks."""
    try:
        n = int(np.asarray(outputs["num_detections"]).reshape(-1)[0])
        boxes = np.asarray(outputs["detection_boxes"], np.float32)[0, :n]
        classes = np.rint(np.asarray(outputs["detection_classes"])[0, :n]).astype(np.int32)
        scores = np.asarray(outputs["detection_scores"], np.float32)[0, :n]
        box_masks = outputs.get("detection_masks")
        box_masks = None if box_masks is None else np.asarray(box_masks, np.float32)[0, :n]
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise DataError(f"the detection model's outputs are not the zoo's ({exc}); expected "
                        "detection_boxes, detection_classes, detection_scores, "
                        "detection_masks and num_detections") from None
    names = COCO_CLASS_NAMES
    known = np.array([0 < c < len(names) and names[c] != "" for c in classes], bool)
    keep = known & (scores >= min_score)
    boxes = boxes[keep] * np.array([height, width, height, width], np.float32)
    box_masks = None if box_masks is None else box_masks[keep]
    masks = None if box_masks is None else paste_masks(box_masks, boxes, height, width)
    return Instances(boxes, classes[keep], scores[keep], names, (height, width), masks,
                     box_masks)


def detect(image: np.ndarray, progress=None, min_score: float = DEFAULT_MIN_SCORE,
           saved_model: Path | None = None) -> tuple[np.ndarray, Instances]:
    """(the image as detected — shrunk to ≤ 1024 px —, its instances); ``extra`` holds the
    model's time in ms ("ms") and the load time the first call paid ("load_ms")."""
    from cnnstudio.core.families.detection import coco_pretrained_tf as ztf

    folder = saved_model or fetch(progress)
    t0 = time.perf_counter()
    model = ztf.load(folder)
    load_ms = (time.perf_counter() - t0) * 1000
    photo = shrink(image)
    t0 = time.perf_counter()
    outputs = ztf.run(model, photo)
    ms = (time.perf_counter() - t0) * 1000
    instances = to_instances(outputs, photo.shape[0], photo.shape[1], min_score)
    instances.extra.update({"ms": round(ms, 1), "load_ms": round(load_ms, 1),
                            "model": TITLE})
    return photo, instances
