"""Run-end evaluation (chapter 3): per-class precision/recall/F1 and the confusion matrix."""

from __future__ import annotations

import json

import numpy as np

from cnnstudio.core import evaluation
from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import ArraySplit, Dataset
from cnnstudio.core.registry import ARCHITECTURES, TASKS


def test_report_known_answer():
    y_true = [0, 0, 1, 1, 2]
    probs = np.eye(3)[[0, 1, 1, 1, 0]]          # predictions 0 1 1 1 0
    r = evaluation.report(y_true, probs, ["cat", "dog", "fox"])
    assert r["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert r["accuracy"] == 0.6 and r["num_test"] == 5
    rows = {row["class"]: row for row in r["per_class"]}
    assert (rows["cat"]["precision"], rows["cat"]["recall"], rows["cat"]["f1"]) == (0.5, 0.5, 0.5)
    assert (rows["dog"]["precision"], rows["dog"]["recall"], rows["dog"]["f1"]) == (
        0.6667, 1.0, 0.8)
    assert (rows["fox"]["precision"], rows["fox"]["recall"], rows["fox"]["support"]) == (0, 0, 1)
    assert r["macro_f1"] == round((0.5 + 0.8 + 0) / 3, 4)
    assert evaluation.format_report(r).splitlines()[-1] == (
        "accuracy 0.6000 on 5 test images, macro F1 0.4333")


def test_after_fit_writes_evaluation_json(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (30, 12, 12, 1), dtype=np.uint8)
    y = (np.arange(30) % 3).astype(np.int32)
    data = Dataset("toy", "toy", ["a", "b", "c"], (12, 12, 1), ArraySplit(x, y),
                   ArraySplit(x[:9], y[:9]))
    task = TASKS.get("classification")
    fit = task.prepare(data, (12, 12, 1), TrainConfig(), lambda e: None)
    model = ARCHITECTURES.get("mlp").build((12, 12, 1), 3, {"units": 8})
    task.compile(model, TrainConfig(), fit)
    result = task.after_fit(model, fit, tmp_path)
    saved = json.loads((tmp_path / "evaluation.json").read_text())
    assert saved == result == evaluation.load(tmp_path)
    assert saved["class_names"] == ["a", "b", "c"] and saved["num_test"] == 9
    assert np.asarray(saved["confusion_matrix"]).sum() == 9
    expected = model.predict_on_batch(x[:9].astype("float32")).argmax(axis=1)
    assert saved["accuracy"] == round(float((expected == y[:9]).mean()), 4)
