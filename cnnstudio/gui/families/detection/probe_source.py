"""Where the detection panels find a Mask R-CNN run's per-epoch probe recordings.

The recordings are written by the model's task (``maskrcnn_probes``); this adapter turns
them into what the panels show: per epoch, a list of (probe image uint8, Instances).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnstudio.core.families.detection.instances import Instances


def _probes():
    from cnnstudio.core.families.detection import maskrcnn_probes

    return maskrcnn_probes


def _as_record(images, detections) -> list[tuple[np.ndarray, Instances]]:
    out = []
    for image, found in zip(images, detections, strict=True):
        image = np.asarray(image)
        if not isinstance(found, Instances):
            found = Instances.from_dict(found, image.shape[:2])
        out.append((image, found))
    return out


def epochs(run_dir: Path) -> list[int]:
    try:
        return list(_probes().DetectionStore(run_dir).epochs())
    except (ImportError, OSError, ValueError):
        return []


def load(run_dir: Path, epoch: int) -> list[tuple[np.ndarray, Instances]]:
    store = _probes().DetectionStore(run_dir)
    images, detections = store.load(epoch)
    return _as_record(images, detections)


def from_event(event) -> tuple[int, list] | None:
    """(epoch, record) from a ProbeReady of the detection task, else None."""
    if getattr(event, "name", "") != "detections":
        return None
    payload = event.payload or {}
    return int(event.epoch), _as_record(payload["images"], payload["detections"])


def first_probe_image(run_dir: Path) -> tuple[np.ndarray, str] | None:
    try:
        images = _probes().DetectionStore(run_dir).images()
    except (ImportError, OSError, ValueError, KeyError):
        return None
    return (np.asarray(images[0]), "probe image 1") if len(images) else None
