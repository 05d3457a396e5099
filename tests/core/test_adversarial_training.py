"""The ``adversarial`` training option: its settings are checked like every option, one
step trains on exactly the batch FGSM makes (a hand-made linear model, the gradient worked
out by hand), and a run using it, stopped and resumed at three steps per call, ends with
the very weights of an uninterrupted one."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.config import RunConfig
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.probes import adversarial_training as at
from cnnstudio.core.training import engine
from cnnstudio.core.training.control import RunControl
from cnnstudio.core.training.events import Notice
from cnnstudio.core.training.rundir import RunDir

pytest.importorskip("tensorflow")


def test_bad_settings_give_one_line_each():
    config = RunConfig()
    config.training.adversarial = {"eps": 1.5, "ratio": 0, "steps": 3}
    problems = [p for p in config.problems() if "adversarial" in p]
    assert problems == [
        "adversarial eps must be a fraction of the 0..255 range, above 0 and at most 1, got 1.5",
        "adversarial ratio must be the share of each batch attacked, above 0 and at most 1, "
        "got 0",
        "unknown adversarial option 'steps' — known: eps, ratio"]
    config.training.adversarial = "yes"
    assert any(p.startswith("adversarial must be an object") for p in config.problems())
    config.training.adversarial = {"eps": 0.05}
    assert not [p for p in config.problems() if "adversarial" in p]
    assert at.settings(config.training.adversarial) == (0.05, 0.5)     # ratio: its default
    assert not at.is_active({}) and at.make_callbacks({}) == []


def _linear(weights):
    k = keras()
    inputs = k.Input((2, 2, 1))
    out = k.layers.Dense(3, activation="softmax", use_bias=False)(k.layers.Flatten()(inputs))
    model = k.Model(inputs, out)
    model.set_weights([weights])
    model.compile(optimizer=k.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    return model


def test_one_step_trains_on_the_batch_fgsm_makes():
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.01, (4, 3)).astype("float32")
    x = rng.uniform(60, 200, (5, 2, 2, 1)).astype("float32")
    x[0, 0, 0, 0] = 250.0                       # a step up is clipped at 255
    y = np.array([0, 1, 2, 1, 0])
    # By hand: for p = softmax(W·x), ∂CE/∂x = W (p − onehot(y)). ratio 0.5 of 5 → the first 3.
    flat = x.reshape(5, 4)
    logits = flat @ w
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    grad = (p - np.eye(3)[y]) @ w.T
    expected = flat.copy()
    expected[:3] = np.clip(flat[:3] + 0.1 * 255 * np.sign(grad[:3]), 0, 255)
    assert expected[0, 0] in (255.0, 250.0 - 25.5)

    attacked, plain = _linear(w), _linear(w)
    assert at.install(attacked, {"eps": 0.1, "ratio": 0.5})
    assert not at.install(attacked, {"eps": 0.1, "ratio": 0.5})      # the same: no change
    attacked.train_on_batch(x, y)
    plain.train_on_batch(expected.reshape(x.shape), y)
    np.testing.assert_allclose(attacked.get_weights()[0], plain.get_weights()[0], atol=1e-6)
    assert not np.allclose(attacked.get_weights()[0], w)


def _config():
    from tests.core.test_export import tiny_lenet_config

    config = tiny_lenet_config(epochs=2)
    config.training.adversarial = {"eps": 0.1, "ratio": 0.5}
    config.training.steps_per_call = 3          # 51 batches an epoch: calls of 3
    return config


@pytest.mark.slow
def test_a_resumed_adversarial_run_repeats_an_uninterrupted_one(runs_root):
    events = []
    whole = engine.run(_config(), runs_root=runs_root, sink=events.append)
    assert any(isinstance(e, Notice) and e.message.startswith("adversarial training: 50% of "
                                                              "each batch") for e in events)
    control = RunControl()

    def stop_after_first(model, epoch):
        if epoch == 1:
            control.stop()

    cut = engine.run(_config(), runs_root=runs_root, control=control,
                     epoch_hooks=[stop_after_first])
    assert cut.status == "stopped"
    attacking = []                             # the loaded checkpoint gets the step too
    resumed = engine.resume(cut.run_dir, epoch_hooks=[
        lambda model, epoch: attacking.append(getattr(model, at._MARK, None))])
    assert attacking == [(0.1, 0.5)]
    assert whole.status == resumed.status == "finished"
    assert RunDir(resumed.run_dir).config().training.adversarial == {"eps": 0.1, "ratio": 0.5}
    k = keras()
    a, b = (k.saving.load_model(RunDir(r.run_dir).path / "model.keras")
            for r in (whole, resumed))
    for u, v in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)
    assert not hasattr(a, at._MARK)            # the saved model is a plain Keras model
