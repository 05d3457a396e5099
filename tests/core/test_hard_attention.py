"""The captioner trained with stochastic hard attention (Xu et al.): REINFORCE's surrogate
on hand-made numbers, its gradient's direction, and a tiny hard run through the engine."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.errors import ModelError
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.core.training import engine
from cnnstudio.core.training.events import EpochEnd

pytest.importorskip("tensorflow")


def _terms(alphas, picks, ce, mask, sampled, baseline):
    from cnnstudio.core.families.attention.captioner_models import ops, reinforce_terms

    out = reinforce_terms(np.asarray(ce, np.float32), np.asarray(mask, np.float32),
                          np.asarray(alphas, np.float32), np.asarray(picks, np.float32),
                          np.asarray(sampled, np.float32), np.float32(baseline))
    return {k: float(ops.convert_to_numpy(v)) for k, v in out.items()}


def test_the_surrogate_reward_and_entropy_on_known_numbers():
    # Two captions of two word slots over 2 cells; the second caption's last slot is padding
    # and the second caption had the expected context (not sampled): only the first counts.
    alphas = [[[0.5, 0.5], [0.8, 0.2]], [[0.1, 0.9], [0.5, 0.5]]]
    picks = [[[1, 0], [0, 1]], [[0, 1], [1, 0]]]
    ce = [[1.0, 2.0], [0.5, 7.0]]
    mask = [[1, 1], [1, 0]]
    out = _terms(alphas, picks, ce, mask, sampled=[1, 0], baseline=-1.0)
    reward = -3.0                                          # −(1 + 2)
    log_pick = np.log(0.5) + np.log(0.2)
    assert out["reward"] == pytest.approx(reward)
    assert out["surrogate"] == pytest.approx(-(reward + 1.0) * log_pick / 3.0, rel=1e-5)
    h = lambda p: -sum(q * np.log(q) for q in p)         # noqa: E731
    entropy = (h([0.5, 0.5]) + h([0.8, 0.2]) + h([0.1, 0.9])) / 3.0
    assert out["attention_entropy"] == pytest.approx(entropy, rel=1e-5)


def test_descending_the_surrogate_raises_a_cell_that_beat_the_baseline():
    """α = softmax(w) over 3 cells; cell 0 was picked and the caption did better than the
    baseline (reward −1 against −4): one gradient step must make cell 0 likelier. With a
    reward below the baseline the same pick becomes less likely."""
    def surrogate(w, baseline):
        alpha = np.exp(w) / np.exp(w).sum()
        return _terms([[alpha]], [[[1, 0, 0]]], [[1.0]], [[1]], [1], baseline)["surrogate"]

    w, eps = np.zeros(3), 1e-3
    for baseline, sign in ((-4.0, 1), (2.0, -1)):
        grad = np.array([(surrogate(w + eps * np.eye(3)[i], baseline)
                          - surrogate(w - eps * np.eye(3)[i], baseline)) / (2 * eps)
                         for i in range(3)])
        stepped = w - 0.5 * grad
        p0 = np.exp(stepped[0]) / np.exp(stepped).sum()
        assert sign * (p0 - 1 / 3) > 0.01


def test_bad_attention_option_is_one_clear_message():
    with pytest.raises(ModelError, match="attention must be one of soft, hard, got 'glance'"):
        ARCHITECTURES.get("captioner").build((64, 64, 3), 2, {"attention": "glance"})


@pytest.mark.slow
def test_a_hard_run_trains_logs_its_reward_and_reloads(tmp_path):
    config = RunConfig(DatasetConfig("shape-scenes", {"limit": 64, "test_count": 12,
                                                      "max_objects": 1}),
                       ModelConfig("captioner", {"filters": 4, "units": 16,
                                                 "attention_units": 8, "embedding": 8,
                                                 "attention": "hard"}),
                       TrainConfig(epochs=2, batch_size=32, learning_rate=3e-3, seed=4,
                                   validation_split=0.25))
    events = []
    result = engine.run(config, runs_root=tmp_path, sink=events.append)
    assert result.status == "finished"
    logs = [e.logs for e in events if isinstance(e, EpochEnd)]
    assert len(logs) == 2
    for log in logs:
        for prefix in ("", "val_"):      # sampled cells in training, the argmax ones in validation
            assert log[prefix + "reward"] < 0                          # a log-likelihood
            assert 0 < log[prefix + "attention_entropy"] <= np.log(64) + 1e-4   # 8×8 cells
    model = load_model_file(result.run_dir / "model.keras")
    assert model.attention == "hard"
    assert int(model.optimizer.iterations.numpy()) == 4
    # The baseline followed the rewards from 0 (4 steps of b ← 0.9 b + 0.1 r, r < 0).
    assert float(model.reward_baseline.numpy()) < 0
    for key in ("bleu4", "exact_match", "attention_hit_rate"):
        assert 0.0 <= result.summary["test"][key] <= 1.0
