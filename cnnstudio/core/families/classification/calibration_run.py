"""Temperature scaling for a classifier run: fit T on the run's held-out images and keep it in
``run_dir/calibration.json``, which the prediction dock reads (``active_temperature``).

    result = calibrate_model(model, run_dir)        # fit on the validation split
    save_calibration(run_dir, result, use=True)     # the dock's predictions use T from now on

calibration.json:

    {"version": 1, "temperature": 1.62, "use": true, "fitted_on": "validation",
     "images": 500, "of": 500, "bins": 15, "ece_before": 0.081, "ece_after": 0.012,
     "nll_before": …, "nll_after": …, "accuracy": …,
     "reliability_before": {…}, "reliability_after": {…},
     "test": {"images": …, "ece_before": …, "ece_after": …}      # held out from the fit
     "model_file": "model.keras"}

T is fitted on the validation split training held out (the same seeded split), or on the
test split when the run has none: then ``fitted_on`` says "test" and the after-figure is
measured on the images T was fitted on, so it flatters.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnstudio.core.errors import StudioError
from cnnstudio.core.probes import calibration as cal
from cnnstudio.core.probes.calibration_record import (
    evenly_spaced,
    held_out_images,
    predict_probabilities,
)

FILE = "calibration.json"
TASKS = ("classification", "transfer")
# Images T is fitted on (and the test split measured on): one scalar needs few; a transfer
# model's base is slow on the CPU.
FIT_LIMIT = {"classification": 5000, "transfer": 1000}


def run_task_of(run_dir) -> tuple[str, str]:
    """(architecture id, task) of a run; StudioError naming the runs calibration works on
    when it is no classifier."""
    from cnnstudio.core.registry import ARCHITECTURES
    from cnnstudio.core.training.rundir import RunDir

    model_id = RunDir.open(run_dir).config().model.id
    task = ARCHITECTURES.get(model_id).task if model_id in ARCHITECTURES else "classification"
    if task not in TASKS:
        classifiers = ", ".join(a for a in ARCHITECTURES.ids()
                                if ARCHITECTURES.get(a).task in TASKS)
        raise StudioError(f"calibration works on classifier runs ({classifiers}); "
                          f"{Path(run_dir).name} is a {model_id} run ({task})")
    return model_id, task


def calibrate_model(model, run_dir, bins: int = cal.BINS) -> dict:
    """Fit T for ``model`` on the run's held-out images; measure it on the test split too
    when T was fitted on the validation split. Returns calibration.json's contents (no
    ``use``). Slow parts: loading the dataset and one pass over ≤ FIT_LIMIT images."""
    from cnnstudio.core.datasets import load_dataset
    from cnnstudio.core.training.rundir import RunDir

    _, task = run_task_of(run_dir)
    config = RunDir.open(run_dir).config()
    dataset = load_dataset(config.dataset)
    limit = FIT_LIMIT[task]
    held = held_out_images(dataset, config.training.validation_split, config.training.seed,
                           limit)
    probs = predict_probabilities(model, held.x)
    _check_outputs(probs, dataset.num_classes)
    fit = cal.fit_on_probabilities(probs, held.y, bins)
    result = {"version": 1, **fit.to_dict(), "fitted_on": held.split, "of": held.total,
              "bins": int(bins), "reliability_before": fit.before.to_dict(),
              "reliability_after": fit.after.to_dict()}
    if held.split == "validation" and len(dataset.test):
        picks = evenly_spaced(np.arange(len(dataset.test)), limit)
        x, y = _images(dataset, dataset.test, picks)
        test = cal.evaluate_temperature(predict_probabilities(model, x), y, fit.temperature,
                                        bins)
        result["test"] = {"images": test.images, "of": len(dataset.test),
                          "ece_before": round(test.before.ece, 6),
                          "ece_after": round(test.after.ece, 6),
                          "nll_before": round(test.nll_before, 6),
                          "nll_after": round(test.nll_after, 6)}
    return result


def _images(dataset, split, picks):
    from cnnstudio.core.datasets.base import ArraySplit
    from cnnstudio.core.training.batches import arrays_for

    if isinstance(split, ArraySplit):
        return arrays_for(split, picks, dataset.input_shape)
    x, y, _skipped = split.images(picks)
    return x, y


def _check_outputs(probs: np.ndarray, classes: int) -> None:
    if probs.ndim != 2 or probs.shape[1] != classes:
        raise StudioError(f"the model gives outputs shaped {probs.shape[1:]}, not one "
                          f"probability per class of its {classes}")
    sums = probs.sum(axis=1)
    if np.any(probs < -1e-6) or not np.allclose(sums, 1.0, atol=1e-3):
        raise StudioError("the model's outputs are not probabilities (it does not end in a "
                          "softmax): temperature scaling here needs a softmax classifier")


def calibrate_run(run_dir, bins: int = cal.BINS) -> dict:
    """``calibrate_model`` on the run's saved model (model.keras, or its last checkpoint)."""
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.training.rundir import RunDir

    run_task_of(run_dir)             # a GAN run: say so before loading anything
    path = RunDir.open(run_dir).trained_model_path()
    result = calibrate_model(load_model_file(path), run_dir, bins)
    result["model_file"] = str(path.relative_to(Path(run_dir)))
    return result


def save_calibration(run_dir, result: dict, use: bool) -> Path:
    """Write calibration.json (atomically); ``use``: the prediction dock applies T."""
    from cnnstudio.core.training.rundir import RunDir

    RunDir.open(run_dir).write_json(FILE, {**result, "use": bool(use)})
    return Path(run_dir) / FILE


def read_calibration(run_dir) -> dict | None:
    """calibration.json, or None when the run has none (or it is unreadable)."""
    from cnnstudio.core.training.rundir import RunDir

    data = RunDir(run_dir).read_json(FILE)
    if not isinstance(data, dict):
        return None
    t = data.get("temperature")
    if not isinstance(t, int | float) or not np.isfinite(t) or t <= 0:
        return None
    return data


def set_use(run_dir, use: bool) -> dict:
    """Switch the dock's calibrated predictions on or off; the fitted T stays."""
    data = read_calibration(run_dir)
    if data is None:
        raise StudioError(f"run {Path(run_dir).name} has no fitted temperature yet: fit one "
                          "first ('cnnstudio calibrate RUN_DIR' or the Calibration tab)")
    save_calibration(run_dir, data, use)
    return {**data, "use": bool(use)}


def active_temperature(run_dir) -> float | None:
    """The T the prediction dock applies for this run, or None (no file, or not in use)."""
    if run_dir is None:
        return None
    data = read_calibration(run_dir)
    return float(data["temperature"]) if data and data.get("use") is True else None
