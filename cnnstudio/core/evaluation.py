"""Chapter 3's evaluation at run end: test accuracy, per-class precision/recall/F1 and the
confusion matrix, saved as ``run_dir/evaluation.json`` for the studio and the CLI.

The arithmetic is the insight panels' own (``probes.confusion``), so the numbers
in the file and on screen are the same numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.core import atomic
from cnnstudio.core.probes.confusion import class_metrics, confusion_matrix

FILE = "evaluation.json"


def report(y_true, probs, class_names: list[str]) -> dict[str, Any]:
    """Everything the evaluation view shows, as JSON-able data."""
    y_true = np.asarray(y_true, dtype=np.int64)
    probs = np.asarray(probs)
    y_pred = probs.argmax(axis=1) if len(probs) else np.zeros(0, np.int64)
    cm = confusion_matrix(y_true, y_pred, len(class_names))
    m = class_metrics(cm)
    per_class = [{"class": name, "precision": round(float(m.precision[i]), 4),
                  "recall": round(float(m.recall[i]), 4), "f1": round(float(m.f1[i]), 4),
                  "support": int(m.support[i])} for i, name in enumerate(class_names)]
    present = m.support > 0
    return {
        "num_test": int(len(y_true)), "accuracy": round(m.accuracy, 4),
        "macro_f1": round(float(m.f1[present].mean()), 4) if present.any() else 0.0,
        "class_names": list(class_names), "per_class": per_class,
        "confusion_matrix": cm.tolist(),   # rows: true class, columns: predicted class
    }


def predict_split(model, test) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, probabilities) for a test split given as (x, y) arrays or a PyDataset."""
    if isinstance(test, tuple):
        x, y = test
        batches = [(x[i:i + 256], y[i:i + 256]) for i in range(0, len(y), 256)]
    else:
        batches = (test[i] for i in range(len(test)))
    ys, ps = [], []
    for x, y in batches:
        ys.append(np.asarray(y))
        ps.append(np.asarray(model.predict_on_batch(np.asarray(x, dtype=np.float32))))
    if not ys:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    return np.concatenate(ys), np.concatenate(ps)


def evaluate(model, test, class_names: list[str], run_dir: str | Path | None = None) -> dict:
    """Predict the test split, build the report and (given a run dir) write evaluation.json."""
    y_true, probs = predict_split(model, test)
    result = report(y_true, probs, class_names)
    if run_dir is not None:
        atomic.write_json(Path(run_dir) / FILE, result)     # whole, or the earlier one
    return result


def load(run_dir: str | Path) -> dict | None:
    path = Path(run_dir) / FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def format_report(result: dict) -> str:
    """The per-class table as text (CLI, logs)."""
    width = max([len(c) for c in result["class_names"]] + [5])
    lines = [f"{'class':<{width}}  precision  recall     f1  support"]
    for row in result["per_class"]:
        lines.append(f"{row['class']:<{width}}  {row['precision']:9.3f}  {row['recall']:6.3f}"
                     f"  {row['f1']:5.3f}  {row['support']:7d}")
    lines.append(f"accuracy {result['accuracy']:.4f} on {result['num_test']} test images, "
                 f"macro F1 {result['macro_f1']:.4f}")
    return "\n".join(lines)
