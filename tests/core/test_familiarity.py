"""Unfamiliar inputs (core/familiarity.py): the score's known answers on hand-made features,
the statistics a finished classification run writes, and the Predictor's flag."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.core import familiarity
from cnnstudio.core.familiarity import Familiarity, fit

CENTRES = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 0.0]])


def clusters(n, rng, spread=1.0):
    labels = np.arange(n) % 2
    return CENTRES[labels] + rng.normal(0, spread, (n, 3)) + [0, 0, 5.0], labels


def gaussian_head():
    """The Bayes classifier of two unit Gaussians: logit_c = f·μ_c − |μ_c|²/2."""
    means = CENTRES + [0, 0, 5.0]
    return means.T.copy(), -0.5 * (means ** 2).sum(1)


def test_mahalanobis_and_energy_known_answers():
    fam = Familiarity(np.zeros((2, 3)), np.zeros(3), means=np.array([[0.0, 0.0], [4.0, 0.0]]),
                      precision=np.eye(2))
    assert fam.distance(np.array([[1.0, 0.0], [2.0, 3.0], [4.0, 0.0]])) \
        == pytest.approx([1.0, 13.0, 0.0])
    # Zero logits for three classes: energy −log 3, whatever the features.
    assert fam.energy(np.array([[5.0, -2.0]])) == pytest.approx([-np.log(3)])
    # A precision that weighs the second axis four times: distance 4·1² to the nearest mean.
    fam.precision = np.diag([1.0, 4.0])
    assert fam.distance(np.array([[4.0, 1.0]])) == pytest.approx([4.0])


def test_centre_low_far_high_and_threshold_at_the_stated_percentile():
    rng = np.random.default_rng(0)
    train, labels = clusters(4000, rng)
    calibration, _ = clusters(1000, rng)
    fam = fit(train, labels, calibration, *gaussian_head(), percentile=95)
    scores = fam.score(calibration)
    assert fam.threshold == pytest.approx(np.percentile(scores, 95))
    assert np.mean(scores > fam.threshold) == pytest.approx(0.05, abs=0.002)
    assert fam.means == pytest.approx(CENTRES + [0, 0, 5.0], abs=0.1)
    assert fam.precision == pytest.approx(np.eye(3), abs=0.1)    # unit covariance found
    at_centres = fam.judge(CENTRES + [0, 0, 5.0])
    assert [j["unfamiliar"] for j in at_centres] == [False, False]
    assert all(j["score"] < fam.threshold for j in at_centres)
    # Between the classes, and far off both.
    off = fam.judge(np.array([[3.0, 8.0, 5.0], [3.0, 0.0, -10.0]]))
    assert [j["unfamiliar"] for j in off] == [True, True]
    # Strong logits (far along a class's own direction) fool the energy; the distance to the
    # nearest class mean still flags it.
    strong = np.array([[30.0, 0.0, 30.0]])
    assert fam.signals(strong)["energy"][0] < fam.signals(calibration)["energy"].mean()
    assert fam.judge(strong)[0]["unfamiliar"]


def test_wide_features_use_the_energy_alone():
    rng = np.random.default_rng(1)
    d = familiarity.MAX_DIM + 1
    feats, labels = rng.normal(0, 1, (50, d)), np.arange(50) % 2
    fam = fit(feats, labels, feats, rng.normal(0, 1, (d, 2)), np.zeros(2))
    assert fam.means is None and set(fam.signals(feats)) == {"energy"}


class _Head:
    def __init__(self, kernel, bias):
        self.weights = [kernel, bias]

    def get_weights(self):
        return self.weights


class _Model:
    """Just enough of a Keras model for ``Familiarity.load``: its ``predictions`` layer."""

    def __init__(self, kernel, bias):
        self.head = _Head(kernel, bias)

    def get_layer(self, name):
        if name != "predictions":
            raise ValueError(name)
        return self.head


def test_files_round_trip_and_a_mismatched_head_loads_nothing(tmp_path):
    rng = np.random.default_rng(2)
    train, labels = clusters(500, rng)
    kernel, bias = gaussian_head()
    fam = fit(train, labels, clusters(200, rng)[0], kernel, bias)
    fam.save(tmp_path)
    info = json.loads((tmp_path / "familiarity.json").read_text())
    assert info["threshold"] == fam.threshold and info["percentile"] == familiarity.PERCENTILE
    back = Familiarity.load(tmp_path, _Model(kernel, bias))
    probe = rng.normal(0, 3, (20, 3))
    assert back.score(probe) == pytest.approx(fam.score(probe), rel=1e-5, abs=1e-5)
    assert Familiarity.load(tmp_path, _Model(np.zeros((4, 2)), np.zeros(2))) is None
    assert Familiarity.load(tmp_path / "elsewhere", _Model(kernel, bias)) is None


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
    from cnnstudio.core.training import engine

    config = RunConfig(DatasetConfig("digits", {}),
                       ModelConfig("mlp", {"units": 64, "hidden_layers": 1}),
                       TrainConfig(epochs=12, batch_size=32, learning_rate=0.005))
    result = engine.run(config, runs_root=tmp_path_factory.mktemp("runs"))
    assert result.status == "finished"
    return result.run_dir


@pytest.mark.slow
def test_a_finished_run_flags_noise_but_not_its_test_digits(digits_run):
    from cnnstudio.core.datasets import dataset_config, load_dataset
    from cnnstudio.core.predict import Predictor

    info = json.loads((digits_run / "familiarity.json").read_text())
    assert info["calibrated_on"] == "validation" and info["calibration_images"] >= 100
    assert info["features"] == 64 and info["classes"] == 10
    predictor = Predictor.from_run(digits_run)
    assert predictor.familiar is not None
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, (8, 8, 1), dtype=np.uint8) for _ in range(10)]
    assert all(j["unfamiliar"] for j in predictor.familiarities(noise))
    test = load_dataset(dataset_config("digits")).test
    flagged = [j["unfamiliar"] for j in predictor.familiarities(list(test.x))]
    assert np.mean(flagged) <= 0.08
    one = predictor.familiarity(noise[0])
    assert set(one) == {"score", "threshold", "unfamiliar"} and one["score"] > one["threshold"]


@pytest.mark.slow
def test_a_run_without_statistics_flags_nothing(digits_run, tmp_path):
    import shutil

    from cnnstudio.core.predict import Predictor

    copy = shutil.copytree(digits_run, tmp_path / "copy")
    (copy / "familiarity.json").unlink()
    predictor = Predictor.from_run(copy)
    assert predictor.familiar is None
    assert predictor.familiarity(np.zeros((8, 8, 1), np.uint8)) is None
