"""What "Train" makes of a capture folder (Teachable Machine's recipe, offline): MobileNetV2
features with a new head when its ImageNet weights are already in the Keras cache, else
LeNet-5 from scratch on the frames. No Qt: the capture panel and the tests share it.

Nothing is downloaded here: a teacher's class must not wait on (or leak to) the network,
so without the cached weights the small CNN trains instead, and the line says why.
"""

from __future__ import annotations

from pathlib import Path

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.datasets.keras_downloads import keras_cache_dir
from cnnstudio.core.errors import StudioError
from cnnstudio.core.imaging import is_image_name

# MobileNetV2 has ImageNet weights per input side; the first of these found in the cache.
MOBILENET_SIDES = (224, 160, 128, 192, 96)
SMALL_SIDE = 64
MIN_IMAGES = 2            # per class: the folder dataset keeps one for training, one to test


def mobilenet_side() -> int | None:
    """The input side whose MobileNetV2 (no top) weights are in the Keras cache, or None."""
    from cnnstudio.core.families.classification.transfer import weights_download

    for side in MOBILENET_SIDES:
        download = weights_download("mobilenetv2", include_top=False, shape=(side, side, 3))
        if (keras_cache_dir(download.subdir) / download.target).is_file():
            return side
    return None


def count_images(folder: Path, name: str) -> int:
    class_dir = Path(folder) / name
    if not class_dir.is_dir():
        return 0
    return sum(1 for p in class_dir.iterdir()
               if p.is_file() and is_image_name(p) and not p.name.startswith("."))


def check_ready(folder: Path | None, classes: list[str]) -> None:
    """One StudioError line when the capture cannot be trained yet."""
    if folder is None:
        raise StudioError("choose a folder for the captured frames first")
    if len(classes) < 2:
        raise StudioError("add at least two classes (a classifier needs something to tell "
                          "apart)")
    for name in classes:
        if count_images(folder, name) < MIN_IMAGES:
            raise StudioError(f"class '{name}' has {count_images(folder, name)} images: hold "
                              f"its button to record at least {MIN_IMAGES} (a few dozen is "
                              "better)")


def capture_config(folder: Path, side: int | None = None,
                   use_mobilenet: bool | None = None) -> tuple[RunConfig, str]:
    """(the RunConfig that trains on ``folder``, one line saying which model and why).
    ``use_mobilenet`` None: when its weights are cached; ``side`` None: the cached one."""
    cached = mobilenet_side()
    if use_mobilenet is None:
        use_mobilenet = cached is not None
    if use_mobilenet:
        side = side or cached or 224
        dataset = DatasetConfig("folder", {"path": str(folder), "image_size": side,
                                           "channels": 3})
        model = ModelConfig("transfer", {"base": "mobilenetv2", "weights": "imagenet",
                                         "mode": "feature-extraction", "head_units": 128,
                                         "dropout": 0.3})
        # Features are computed once, then the head trains in seconds (no augmentation:
        # the cached features are of the frames as they are).
        training = TrainConfig(epochs=20, batch_size=16, learning_rate=1e-3,
                               validation_split=0.1)
        line = (f"MobileNetV2 features (ImageNet weights from the Keras cache) with a new "
                f"head, on {side}×{side} frames")
    else:
        side = side or SMALL_SIDE
        dataset = DatasetConfig("folder", {"path": str(folder), "image_size": side,
                                           "channels": 3})
        model = ModelConfig("lenet5", {})
        training = TrainConfig(epochs=15, batch_size=16, learning_rate=1e-3,
                               validation_split=0.1,
                               augmentation={"flip": "horizontal", "rotation": 0.03,
                                             "zoom": 0.1})
        line = (f"LeNet-5 from scratch on {side}×{side} frames (no MobileNetV2 weights in "
                f"{keras_cache_dir('models')}: train a transfer run once online to use them)")
    return RunConfig(dataset, model, training, name=f"capture-{Path(folder).name}"), line
