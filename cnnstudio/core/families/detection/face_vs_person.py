"""Chapter 7's two eras on one photo: Viola-Jones's face boxes (2001) beside Mask R-CNN's
"person" instances (2017), each with its own time.

Both answers in the common instance format, so one view draws either: the Haar boxes as
box-only instances of class "face" (score 1.0: a cascade votes, it does not score), and
the COCO model's instances narrowed to people.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.families.detection.instances import Instances

FACE_NAMES = ["background", "face"]


def haar_faces(image: np.ndarray, cascade: str = "frontalface") -> Instances:
    """The Haar cascade's boxes as instances; ``extra["ms"]`` is the cascade's own time."""
    from cnnstudio.core.families.detection.haar_detect import detect_haar

    found = detect_haar(np.asarray(image), cascade)
    n = len(found.boxes)
    return Instances(found.instance_boxes(), np.ones(n, np.int32), np.ones(n, np.float32),
                     FACE_NAMES, found.image_size, extra={"ms": round(found.ms, 1),
                                                          "model": f"Haar {found.cascade}"})


def persons(instances: Instances) -> Instances:
    """Only the instances labelled "person" (the model's time kept)."""
    return instances.select(np.array([label == "person" for label in instances.labels], bool))
