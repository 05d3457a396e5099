"""Calibration (issue 27, section 4): the ECE of hand-made probabilities, a temperature that
comes back from logits made with it, per-epoch records of a tiny run, and
``cnnstudio calibrate`` writing calibration.json."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.core.errors import StudioError
from cnnstudio.core.probes import calibration as cal

# Four images, two classes: (probabilities, label) → top-1 confidence, right or wrong.
HAND = np.array([[0.95, 0.05],     # label 0: 0.95, right
                 [0.92, 0.08],     # label 1: 0.92, wrong
                 [0.25, 0.75],     # label 1: 0.75, right
                 [0.42, 0.58]])    # label 0: 0.58, wrong
HAND_LABELS = np.array([0, 1, 1, 0])


def test_ece_of_hand_made_probabilities_with_ten_bins():
    rel = cal.reliability(HAND, HAND_LABELS, bins=10)
    # (0.9, 1.0]: 0.95 and 0.92, one right: |0.5 − 0.935| · 2/4 = 0.2175
    # (0.7, 0.8]: 0.75, right:                |1 − 0.75|    · 1/4 = 0.0625
    # (0.5, 0.6]: 0.58, wrong:                |0 − 0.58|    · 1/4 = 0.145
    assert rel.ece == pytest.approx(0.2175 + 0.0625 + 0.145)
    assert rel.counts.tolist() == [0, 0, 0, 0, 0, 1, 0, 1, 0, 2]
    assert rel.accuracy[9] == 0.5 and rel.confidence[9] == pytest.approx(0.935)
    assert np.isnan(rel.accuracy[0]) and rel.overall_accuracy == 0.5
    assert rel.mean_confidence == pytest.approx((0.95 + 0.92 + 0.75 + 0.58) / 4)


def test_ece_with_the_default_fifteen_bins_puts_each_image_in_its_own_bin():
    # Bins of width 1/15: 0.95 → 14, 0.92 → 13, 0.75 → 11, 0.58 → 8.
    rel = cal.reliability(HAND, HAND_LABELS)
    assert np.flatnonzero(rel.counts).tolist() == [8, 11, 13, 14]
    assert cal.expected_calibration_error(HAND, HAND_LABELS) == pytest.approx(
        (0.05 + 0.92 + 0.25 + 0.58) / 4)


def test_a_perfectly_calibrated_bin_has_no_error_and_confidence_one_lands_in_the_last_bin():
    probs = np.array([[0.7, 0.3]] * 10)
    labels = np.array([0] * 7 + [1] * 3)          # right 7 times out of 10 at 70 %
    assert cal.expected_calibration_error(probs, labels) == pytest.approx(0.0)
    assert cal.reliability(np.array([[1.0, 0.0]]), [0], bins=4).counts.tolist() == [0, 0, 0, 1]


def test_temperature_two_on_eighty_twenty_gives_two_thirds():
    # softmax(log p / 2) = √p / Σ√p: √0.8 / (√0.8 + √0.2) = 2 / 3
    assert cal.apply_temperature([[0.8, 0.2]], 2.0)[0] == pytest.approx([2 / 3, 1 / 3])
    assert cal.apply_temperature([[0.8, 0.2]], 1.0)[0] == pytest.approx([0.8, 0.2])


@pytest.mark.parametrize("true_t", [0.6, 2.5])
def test_a_temperature_fitted_on_logits_made_with_it_comes_back(true_t):
    rng = np.random.default_rng(0)
    calibrated = rng.normal(0, 2.0, size=(4000, 10))        # logits calibrated at T = 1
    probs = cal.softmax(calibrated)
    labels = np.array([rng.choice(10, p=p) for p in probs])  # labels drawn from them
    network = calibrated * true_t          # what an over-(or under-)confident net says
    assert cal.fit_temperature(network, labels) == pytest.approx(true_t, rel=0.05)
    # From the softmax output alone (log p as logits): the same T, and the ECE drops.
    fit = cal.fit_on_probabilities(cal.softmax(network), labels)
    assert fit.temperature == pytest.approx(true_t, rel=0.05)
    assert fit.after.ece < fit.before.ece and fit.nll_after < fit.nll_before
    assert fit.after.ece < 0.03


def test_bad_input_is_one_clear_message():
    with pytest.raises(StudioError, match="positive number"):
        cal.apply_temperature(HAND, -1)
    with pytest.raises(StudioError, match="4 predictions but 3 labels"):
        cal.reliability(HAND, [0, 1, 1])
    with pytest.raises(StudioError, match=r"labels must lie in 0…1"):
        cal.reliability(HAND, [0, 1, 2, 0])
    with pytest.raises(StudioError, match="at least 2 held-out images"):
        cal.fit_temperature(np.zeros((1, 3)), [0])
    with pytest.raises(StudioError, match="shaped \\(images, classes\\)"):
        cal.reliability(np.zeros(5), np.zeros(5))


# -- a tiny run ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """An mlp on digits with a validation split (2 epochs) and one without (1 epoch)."""
    pytest.importorskip("tensorflow")
    from cnnstudio.core.training import engine
    from tests.core.test_engine import tiny

    root = tmp_path_factory.mktemp("calibration-runs")
    events = []
    with_val = engine.run(tiny(epochs=2), runs_root=root, sink=events.append).run_dir
    config = tiny(epochs=1)
    config.training.validation_split = 0.0
    without_val = engine.run(config, runs_root=root).run_dir
    return with_val, without_val, events


@pytest.mark.slow
def test_each_epoch_records_the_validation_sets_calibration(runs):
    from cnnstudio.core.datasets import load_dataset
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.probes.calibration_record import (
        CalibrationStore,
        held_out_images,
        predict_probabilities,
    )
    from cnnstudio.core.training.rundir import RunDir

    run_dir, _, events = runs
    store = CalibrationStore(run_dir)
    assert store.epochs() == [1, 2]
    config = RunDir.open(run_dir).config()
    dataset = load_dataset(config.dataset)
    n_val = int(round(len(dataset.train) * config.training.validation_split))
    assert store.meta() == {"version": 1, "split": "validation", "images": min(n_val, 1000),
                            "of": n_val, "bins": 15}
    # The last epoch's record is the final model's calibration on those images.
    held = held_out_images(dataset, config.training.validation_split, config.training.seed)
    probs = predict_probabilities(load_model_file(run_dir / "model.keras"), held.x)
    frame = store.load(2)
    assert frame.ece == pytest.approx(cal.expected_calibration_error(probs, held.y), abs=1e-5)
    assert frame.accuracy == pytest.approx(np.mean(probs.argmax(1) == held.y))
    assert frame.reliability().total == len(held.y)
    epochs, eces = store.ece_history()
    assert epochs == [1, 2] and eces[1] == pytest.approx(frame.ece)
    ready = [e for e in events if getattr(e, "name", "") == "calibration"]
    assert [e.epoch for e in ready] == [1, 2] and ready[1].payload.ece == pytest.approx(eces[1])


def test_a_run_without_a_validation_split_records_its_test_set(runs):
    from cnnstudio.core.probes.calibration_record import CalibrationStore

    meta = CalibrationStore(runs[1]).meta()
    assert meta["split"] == "test" and CalibrationStore(runs[1]).epochs() == [1]


def test_calibrate_writes_calibration_json_and_prints_ece_before_and_after(runs, capsys):
    from cnnstudio.cli import main
    from cnnstudio.core.families.classification import calibration_run as cr

    run_dir = runs[0]
    assert main(["calibrate", str(run_dir)]) == 0
    out = capsys.readouterr().out
    saved = json.loads((run_dir / "calibration.json").read_text())
    assert saved["use"] is True and saved["fitted_on"] == "validation"
    assert f"T = {saved['temperature']:.3f}" in out and "→" in out and "test images" in out
    # T minimises the NLL on the images it was fitted on.
    assert saved["nll_after"] <= saved["nll_before"] + 1e-9
    assert cr.active_temperature(run_dir) == pytest.approx(saved["temperature"])
    assert main(["calibrate", str(run_dir), "--json", "--no-use"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["temperature"] == pytest.approx(saved["temperature"], rel=1e-4)
    assert cr.active_temperature(run_dir) is None        # stored, not applied
    cr.set_use(run_dir, True)
    assert cr.active_temperature(run_dir) == pytest.approx(saved["temperature"])


def test_calibrate_says_which_split_without_a_validation_split(runs, capsys):
    from cnnstudio.cli import main

    assert main(["calibrate", str(runs[1])]) == 0
    assert "test images (the run has no validation split)" in capsys.readouterr().out


def test_calibrate_on_a_gan_run_names_the_runs_it_works_on(tmp_path, capsys):
    from cnnstudio.cli import main
    from cnnstudio.core.config import RunConfig
    from cnnstudio.core.training.rundir import RunDir

    config = RunConfig()
    config.model.id = "gan-mlp"
    folder = RunDir.create(config, path=tmp_path / "gan")
    assert main(["calibrate", str(folder.path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "calibration works on classifier runs (" in err[0]
    assert "lenet5" in err[0] and "gan-mlp run" in err[0]
    assert main(["calibrate", str(tmp_path / "gan"), "--bins", "0"]) == 2
    assert "--bins must be between 1 and 100" in capsys.readouterr().err
