"""Haar faces beside Mask R-CNN persons: both as instances, each with its time."""

import numpy as np

from cnnstudio.core.families.detection.coco_pretrained import COCO_CLASS_NAMES
from cnnstudio.core.families.detection.face_vs_person import haar_faces, persons
from cnnstudio.core.families.detection.instances import Instances


def test_the_astronauts_face_as_a_box_only_instance():
    from skimage import data

    faces = haar_faces(data.astronaut())
    assert len(faces) == 1 and faces.labels == ["face"] and faces.masks is None
    y1, x1, y2, x2 = faces.boxes[0]
    assert 150 < (x1 + x2) / 2 < 260 and 50 < (y1 + y2) / 2 < 160   # her face, top middle
    assert faces.extra["ms"] > 0 and faces.image_size == (512, 512)


def test_persons_keeps_only_people():
    found = Instances([[0, 0, 4, 4], [1, 1, 5, 5], [2, 2, 6, 6]], [1, 18, 1],
                      [0.9, 0.8, 0.4], COCO_CLASS_NAMES, (8, 8), extra={"ms": 7.0})
    people = persons(found)
    assert people.labels == ["person", "person"]
    np.testing.assert_allclose(people.scores, [0.9, 0.4])
    assert people.extra["ms"] == 7.0
