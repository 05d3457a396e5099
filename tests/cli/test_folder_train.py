"""The book's real folder layouts, trained end to end: a BelgiumTS-like tree of .ppm files
(Training/00000…, Testing/…) and a Dogs-vs-Cats-like tree of .jpg files, each with mixed
sizes, colour modes and one corrupt file that must be named and skipped.

The CLI is a subprocess (exit codes, stderr); the studio's path is ``engine.run`` with a sink.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from cnnstudio.core.config import ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.datasets import dataset_config, load_dataset
from cnnstudio.core.datasets.folder import class_balance
from cnnstudio.core.training import engine
from cnnstudio.core.training.events import Notice, RunFinished

SIZES = [(24, 30), (41, 37), (64, 48), (32, 32), (19, 55)]


def _sign(kind: int, h: int, w: int) -> np.ndarray:
    """A coloured shape per class (circle, triangle, square) on grey, like a cropped sign."""
    image = np.full((h, w, 3), 90, np.uint8)
    colour = [(0, 0, 220), (0, 200, 0), (220, 0, 0)][kind]
    c, r = (w // 2, h // 2), min(h, w) // 3
    if kind == 0:
        cv2.circle(image, c, r, colour, -1)
    elif kind == 1:
        pts = np.array([[c[0], c[1] - r], [c[0] - r, c[1] + r], [c[0] + r, c[1] + r]])
        cv2.fillPoly(image, [pts.astype(np.int32)], colour)
    else:
        cv2.rectangle(image, (c[0] - r, c[1] - r), (c[0] + r, c[1] + r), colour, -1)
    return image


def make_belgiumts(root: Path, per_class=8, test_per_class=3) -> Path:
    for split, n in (("Training", per_class), ("Testing", test_per_class)):
        for k in range(3):
            folder = root / split / f"{k:05d}"
            folder.mkdir(parents=True)
            (folder / f"GT-{k:05d}.csv").write_text("Filename;ClassId\n")   # ignored, as in BTS
            for i in range(n):
                h, w = SIZES[(i + k) % len(SIZES)]
                cv2.imwrite(str(folder / f"{i:05d}_{k:05d}.ppm"), _sign(k, h, w))
    (root / "Training" / "00001" / "01234_00001.ppm").write_bytes(b"P6\n32 32\n255\n\x00\x01")
    return root


def make_dogs_vs_cats(root: Path, per_class=12) -> Path:
    rng = np.random.default_rng(0)
    for k, name in enumerate(("cats", "dogs")):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            h, w = SIZES[i % len(SIZES)]
            image = rng.integers(0, 60, (h * 3, w * 3, 3), dtype=np.uint8)
            image[..., 2 if k == 0 else 0] += 180   # cats reddish, dogs bluish (BGR on disk)
            cv2.imwrite(str(folder / f"{name[:-1]}.{i}.jpg"), image)
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        cv2.imwrite(str(folder / f"{name[:-1]}.gray.jpg"), gray)
    rgba = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    cv2.imwrite(str(root / "dogs" / "dog.alpha.png"), rgba)
    (root / "dogs" / "dog.broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "cats" / "cat.broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    return root


def cli(*args):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "cnnstudio", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def test_belgiumts_layout_is_read_with_its_test_folder(tmp_path):
    root = make_belgiumts(tmp_path / "BelgiumTS")
    data = load_dataset(dataset_config(str(root), image_size=32))
    assert data.class_names == ["00000", "00001", "00002"]
    assert data.input_shape == (32, 32, 3)
    assert data.counts("train") == [8, 8, 8] and data.counts("test") == [3, 3, 3]
    assert [Path(f).name for f, _ in data.skipped] == ["01234_00001.ppm"]


def test_gtsrb_layout_with_a_csv_labelled_flat_test_folder(tmp_path):
    root = tmp_path / "GTSRB"
    for k in range(2):
        folder = root / "Final_Training" / "Images" / f"{k:05d}"
        folder.mkdir(parents=True)
        for i in range(4):
            cv2.imwrite(str(folder / f"00000_{i:05d}.ppm"), _sign(k, 30, 30))
    flat = root / "Final_Test" / "Images"
    flat.mkdir(parents=True)
    rows = ["Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId"]
    for i, k in enumerate((0, 1, 1)):
        cv2.imwrite(str(flat / f"{i:05d}.ppm"), _sign(k, 28, 28))
        rows.append(f"{i:05d}.ppm;28;28;0;0;27;27;{k}")
    (flat / "GT-final_test.csv").write_text("\n".join(rows) + "\n")
    data = load_dataset(dataset_config(str(root), image_size=16))
    assert data.class_names == ["00000", "00001"]
    assert data.counts("train") == [4, 4] and data.counts("test") == [1, 2]


def test_class_balance_flags_skewed_sets():
    assert class_balance([10, 10], ["a", "b"])["warning"] == ""
    skewed = class_balance([30, 5, 10], ["a", "b", "c"])
    assert (skewed["imbalance"], skewed["smallest"], skewed["largest"]) == (6.0, "b", "a")
    assert skewed["warning"].startswith("classes are unbalanced: 'a' has 6.0× the images of 'b'")


@pytest.mark.slow
def test_dogs_vs_cats_trains_from_the_cli(tmp_path):
    root = make_dogs_vs_cats(tmp_path / "dogs-vs-cats")
    proc = cli("train", "--dataset", str(root), "--model", "dogs-vs-cats", "--epochs", "3",
               "--batch-size", "8", "--validation-split", "0", "--runs-root",
               str(tmp_path / "runs"), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["status"] == "finished" and summary["epochs_done"] == 3
    run = Path(summary["run_dir"])
    # --json keeps stderr quiet; the run's event log names the skipped file.
    notices = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("dog.broken.jpg" in str(n.get("message", "")) for n in notices)
    assert any("cat.broken.png" in str(n.get("message", "")) for n in notices)
    assert "[ERROR:" not in proc.stderr          # OpenCV's own logger is silenced
    info = json.loads((run / "dataset.json").read_text())
    # The model's preferred 128×128 input, colour detected; gray and RGBA files taken as RGB.
    assert info["input_shape"] == [128, 128, 3] and info["class_names"] == ["cats", "dogs"]
    assert info["num_train"] + info["num_test"] == 12 + 12 + 3
    model = json.loads((run / "model.json").read_text())
    assert model["params"] == 2_126_178
    assert summary["test"]["accuracy"] >= 0.5


@pytest.mark.slow
@pytest.mark.parametrize("augment", [{}, {"flip": "horizontal", "rotation": 0.05}])
def test_belgiumts_trains_through_the_engine(tmp_path, augment):
    root = make_belgiumts(tmp_path / "BelgiumTS")
    cfg = RunConfig(dataset=dataset_config(str(root)), model=ModelConfig("traffic-signs-bn"),
                    training=TrainConfig(epochs=3, batch_size=8, validation_split=0.0,
                                         augmentation=augment, lr_schedule="cosine"))
    events = []
    result = engine.run(cfg, runs_root=tmp_path / "runs", sink=events.append)
    assert result.status == "finished", result.summary
    skipped = [e.message for e in events if isinstance(e, Notice) and "skipped" in e.message]
    assert any("01234_00001.ppm" in m for m in skipped)
    finished = [e for e in events if isinstance(e, RunFinished)][0]
    assert finished.test["accuracy"] >= 0.5   # three easy shapes, 9 test images
    info = json.loads((result.run_dir / "dataset.json").read_text())
    assert info["input_shape"] == [32, 32, 3] and info["train_counts"] == [8, 8, 8]


@pytest.mark.slow
def test_the_engine_leaves_the_callers_config_as_it_was(tmp_path):
    from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
    from cnnstudio.core.training import engine

    root = make_dogs_vs_cats(tmp_path / "dogs-vs-cats")
    config = RunConfig(DatasetConfig("folder", {"path": str(root)}),
                       ModelConfig("dogs-vs-cats", {"fc_units": 8}),
                       TrainConfig(epochs=1, batch_size=8, validation_split=0.0))
    before = config.to_dict()
    result = engine.run(config, runs_root=tmp_path / "runs")
    assert result.status == "finished"
    assert config.to_dict() == before            # the form's (or a sweep's) config untouched
    recorded = json.loads((Path(result.run_dir) / "config.json").read_text())
    assert recorded["dataset"]["options"]["image_size"] == 128   # the run says what it used
