"""COCO-format annotations (pycocotools) read into the family's instance format, bad entries
skipped and named, and COCOeval's box and mask AP with answers known by hand."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig
from cnnstudio.core.errors import DataError
from cnnstudio.core.families.detection.coco_data import read_coco
from cnnstudio.core.families.detection.coco_eval import KEYS, coco_metrics, write_evaluation

H, W = 40, 60


@pytest.fixture
def coco_dir(tmp_path):
    """Two 60×40 images, a third listed but missing, and annotations good and bad."""
    (tmp_path / "images").mkdir()
    image = np.zeros((H, W, 3), np.uint8)
    image[10:20, 5:25] = 200
    cv2.imwrite(str(tmp_path / "images" / "a.png"), image)
    cv2.imwrite(str(tmp_path / "images" / "b.png"), image[:, ::-1])
    rle_b = {"size": [H, W], "counts": [40 * 35 + 10, 10, 30, 10, 30, 10, 30, 10]}
    data = {
        "images": [{"id": 1, "file_name": "a.png", "width": W, "height": H},
                   {"id": 2, "file_name": "b.png", "width": W, "height": H},
                   {"id": 3, "file_name": "missing.png", "width": W, "height": H}],
        "categories": [{"id": 7, "name": "box"}, {"id": 3, "name": "blob"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 7, "bbox": [5, 10, 20, 10],
             "segmentation": [[5, 10, 25, 10, 25, 20, 5, 20]], "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 99, "bbox": [0, 0, 4, 4],
             "segmentation": [[0, 0, 4, 0, 4, 4]]},
            {"id": 3, "image_id": 3, "category_id": 7, "segmentation": [[0, 0, 4, 0, 4, 4]]},
            {"id": 4, "image_id": 2, "category_id": 3, "segmentation": [[0, 0, 0, 0, 0, 0]]},
            {"id": 5, "image_id": 2, "category_id": 3, "segmentation": rle_b},
            {"id": 6, "image_id": 42, "category_id": 3, "segmentation": rle_b},
            # Numbers that would train to garbage (Python's JSON reader takes NaN): issue 23.
            {"id": 7, "image_id": 1, "category_id": 7, "bbox": [float("nan"), 10, 20, 10],
             "segmentation": [[5, 10, 25, 10, 25, 20, 5, 20]]},
            {"id": 8, "image_id": 1, "category_id": 7, "bbox": [5, 10, 1e30, 10],
             "segmentation": [[5, 10, 25, 10, 25, 20, 5, 20]]},
            {"id": 9, "image_id": 2, "category_id": 7, "bbox": [5, 10, 0, 10],
             "segmentation": [[5, 10, 25, 10, 25, 20, 5, 20]]}]}
    (tmp_path / "instances.json").write_text(json.dumps(data))
    return tmp_path


def test_coco_file_to_the_family_format_with_bad_entries_named(coco_dir):
    coco = read_coco(coco_dir / "instances.json")        # images/ beside the JSON
    # Class ids follow the COCO ids' order: blob (3) → 1, box (7) → 2.
    assert coco.class_names == ["background", "blob", "box"]
    assert coco.category_ids == [0, 3, 7]
    assert dict(coco.skipped) == {
        "image 3 'missing.png'": f"file not found in {coco_dir / 'images'}",
        "annotation 2 of a.png": "unknown category 99",
        "annotation 3": "its image was left out",
        "annotation 4 of b.png": "its mask is empty (covers no pixel)",
        "annotation 6": "unknown image id 42",
        "annotation 7 of a.png": "its bbox [nan, 10, 20, 10] holds a number that is not finite",
        "annotation 8 of a.png": f"its bbox [5, 10, 1e+30, 10] lies outside the {W}×{H} image",
        "annotation 9 of b.png": "its bbox [5, 10, 0, 10] has no size"}
    a, b = (item.instances() for item in coco.images)
    assert a["boxes"].dtype == np.float32 and a["boxes"].tolist() == [[10, 5, 20, 25]]
    assert a["class_ids"].tolist() == [2] and a["class_names"] == coco.class_names
    assert a["masks"].shape == (1, H, W) and a["masks"].dtype == bool
    assert a["masks"][0].sum() == 200 and a["masks"][0, 10:20, 5:25].all()
    # The uncompressed RLE (column-major runs): columns 35..38, rows 10..19; no bbox given,
    # so the box is the mask's own.
    assert b["class_ids"].tolist() == [1] and b["masks"][0].sum() == 40
    assert np.argwhere(b["masks"][0]).min(0).tolist() == [10, 35]
    assert b["boxes"].tolist() == [[10, 35, 20, 39]]
    assert coco.images[0].image().shape == (H, W, 3)


def test_malformed_or_foreign_json_is_one_clear_message(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [1, 2,')
    with pytest.raises(DataError, match=r"bad.json is not valid JSON \(line 1, column 18"):
        read_coco(bad)
    bad.write_text('{"images": [], "categories": []}')
    with pytest.raises(DataError, match="no list 'annotations'"):
        read_coco(bad)
    with pytest.raises(DataError, match="COCO annotations not found"):
        read_coco(tmp_path / "nope.json")


def test_coco_dataset_source_letterboxes_instances(coco_dir):
    from cnnstudio.core.datasets import load_dataset

    ds = load_dataset(DatasetConfig("coco", {"path": str(coco_dir / "instances.json"),
                                             "size": 30, "test_fraction": 0.5}))
    assert ds.class_names == ["blob", "box"] and ds.input_shape == (30, 30, 3)
    assert len(ds.train) == len(ds.test) == 1
    assert "annotation 2 of a.png" in dict(ds.skipped)
    # 60×40 → 30×20, centred: 5 grey rows above. The box [10, 5, 20, 25] halves and shifts.
    ann = ds.test.instances(0)                  # the fixed split holds image a out
    assert ann["boxes"].tolist() == [[10, 2.5, 15, 12.5]]
    assert ann["masks"].shape == (1, 30, 30) and ann["masks"][0, 10:15, 3:12].all()
    assert (ds.test.x[0, :5] == 114).all() and ds.train.instances(0)["class_ids"].tolist() == [1]
    with pytest.raises(DataError, match="set the option path="):
        load_dataset(DatasetConfig("coco", {}))


def _instances(boxes, class_ids, scores=None, size=(32, 32)):
    masks = np.zeros((len(boxes), *size), bool)
    for k, (y1, x1, y2, x2) in enumerate(boxes):
        masks[k, y1:y2, x1:x2] = True
    out = {"boxes": np.asarray(boxes, np.float32).reshape(-1, 4),
           "class_ids": np.asarray(class_ids, np.int32), "masks": masks}
    if scores is not None:
        out["scores"] = np.asarray(scores, np.float32)
    return out


def test_cocoeval_known_answers(tmp_path):
    truth = [_instances([(0, 0, 10, 10), (12, 12, 30, 30)], [1, 2]),
             _instances([(5, 5, 20, 25)], [1])]
    perfect = [dict(t, scores=np.ones(len(t["class_ids"]))) for t in truth]
    assert coco_metrics(truth, perfect) == {key: pytest.approx(1.0) for key in KEYS}
    # A 10×10 box predicted 2 px to the right: IoU 80/120 = 0.67, a match at IoU 0.50,
    # 0.55, 0.60 and 0.65 of COCO's ten thresholds → AP 0.4, AP50 1, AP75 0 (box and mask).
    shifted = coco_metrics([_instances([(0, 0, 10, 10)], [1])],
                           [_instances([(0, 2, 10, 12)], [1], [0.9])])
    assert shifted == {"box_ap": pytest.approx(0.4), "box_ap50": pytest.approx(1.0),
                       "box_ap75": 0.0, "mask_ap": pytest.approx(0.4),
                       "mask_ap50": pytest.approx(1.0), "mask_ap75": 0.0}
    nothing = [_instances([], [], []), _instances([], [], [])]
    assert coco_metrics(truth, nothing) == {key: 0.0 for key in KEYS}
    # The wrong class at the right place is a miss.
    assert coco_metrics([_instances([(0, 0, 10, 10)], [1])],
                        [_instances([(0, 0, 10, 10)], [2], [1.0])])["box_ap50"] == 0.0
    # Box-only detectors (no masks): mask keys are None.
    boxes_only = coco_metrics([{"boxes": [[0, 0, 10, 10]], "class_ids": [1]}],
                              [{"boxes": [[0, 0, 10, 10]], "class_ids": [1], "scores": [1]}])
    assert boxes_only["box_ap"] == pytest.approx(1.0) and boxes_only["mask_ap"] is None
    target = tmp_path / "evaluation.json"
    target.write_text(json.dumps({"loss": 0.5}))
    write_evaluation(target, shifted)
    written = json.loads(target.read_text())
    assert written["loss"] == 0.5 and written["box_ap"] == pytest.approx(0.4)
    with pytest.raises(DataError, match="must pair up"):
        coco_metrics(truth, perfect[:1])
