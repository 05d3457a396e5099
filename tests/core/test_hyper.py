"""Hyperparameters: validated in RunConfig, applied with Keras's own objects."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.config import RunConfig, TrainConfig
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.registry import ARCHITECTURES, TASKS
from cnnstudio.core.training import hyper


def test_defaults_keep_the_architecture_as_built():
    t = TrainConfig()
    assert (t.lr_schedule, t.initializer, t.dropout, t.batch_norm, t.l1, t.l2,
            t.early_stopping, t.augmentation) == ("constant", "default", None, None, 0.0, 0.0,
                                                  False, {})
    assert RunConfig().problems() == []
    model = ARCHITECTURES.get("lenet5").build((28, 28, 1), 10)
    before = [w.numpy().copy() for w in model.weights]
    assert hyper.apply_hyperparameters(model, t) == {"initialized": 0, "regularized": 0,
                                                     "dropout": 0}
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, model.weights, strict=True))
    assert hyper.callbacks(t, has_validation=True) == []


@pytest.mark.parametrize("field,value,message", [
    ("lr_schedule", "linear", "unknown lr_schedule 'linear' — known: constant, step, cosine, plateau"),
    ("lr_decay", 1.5, "lr_decay must be a factor between 0 and 1, got 1.5"),
    ("lr_step_epochs", 0, "lr_step_epochs must be a positive integer, got 0"),
    ("lr_patience", -1, "lr_patience must be a positive integer, got -1"),
    ("initializer", "xavier", "unknown initializer 'xavier' — known: default, glorot, he, truncated-normal"),
    ("dropout", 1.0, "dropout must be a rate in [0, 1) or null, got 1.0"),
    ("batch_norm", "yes", "batch_norm must be true, false or null, got 'yes'"),
    ("l2", -0.1, "l2 must be a penalty in [0, 1), got -0.1"),
    ("early_stopping", 1, "early_stopping must be true or false, got 1"),
    ("patience", 0, "patience must be a positive integer, got 0"),
    ("augmentation", {"rotation": 2}, "augmentation rotation must be a number from 0 to 0.5"),
    ("augmentation", {"shear": 0.1}, "unknown augmentation 'shear'"),
])
def test_each_bad_value_gets_one_clear_sentence(field, value, message):
    cfg = RunConfig()
    setattr(cfg.training, field, value)
    found = cfg.problems()
    assert len(found) == 1 and found[0].startswith(message), found


def test_batch_norm_needs_an_architecture_with_the_switch():
    cfg = RunConfig.from_dict({"model": {"id": "lenet5"}, "training": {"batch_norm": True}})
    assert cfg.problems() == ["batch_norm cannot be switched for 'lenet5': it has no "
                              "batch-norm option (leave it null)"]
    task = TASKS.get("classification")
    arch = ARCHITECTURES.get("traffic-signs-bn")
    off = task.build_model(arch, (32, 32, 3), 62, {}, TrainConfig(batch_norm=False))
    on = task.build_model(arch, (32, 32, 3), 62, {}, TrainConfig())
    bn = lambda m: sum(isinstance(x, keras().layers.BatchNormalization) for x in m.layers)  # noqa: E731
    assert (bn(on), bn(off)) == (3, 0)


def test_config_round_trips_through_json():
    cfg = RunConfig.from_dict({"training": {"lr_schedule": "cosine", "l2": 1e-4,
                                            "augmentation": {"flip": "horizontal", "zoom": 0.1}}})
    again = RunConfig.from_json(cfg.to_json())
    assert again == cfg and again.training.augmentation == {"flip": "horizontal", "zoom": 0.1}


def test_step_and_cosine_schedules_are_keras_schedules():
    step = hyper.learning_rate(TrainConfig(learning_rate=0.1, lr_schedule="step",
                                           lr_step_epochs=2, lr_decay=0.5), steps_per_epoch=10)
    assert isinstance(step, keras().optimizers.schedules.ExponentialDecay)
    assert [round(float(step(s)), 6) for s in (0, 19, 20, 40)] == [0.1, 0.1, 0.05, 0.025]
    cosine = hyper.learning_rate(TrainConfig(learning_rate=0.1, lr_schedule="cosine", epochs=4),
                                 steps_per_epoch=5)
    assert [round(float(cosine(s)), 6) for s in (0, 10, 20)] == [0.1, 0.05, 0.0]
    assert hyper.learning_rate(TrainConfig(lr_schedule="plateau")) == 1e-3
    opt = hyper.make_optimizer(TrainConfig(optimizer="sgd", lr_schedule="cosine"), 3)
    assert isinstance(opt, keras().optimizers.SGD) and float(opt.momentum) == 0.9


def test_initializer_regularizer_and_dropout_are_applied():
    model = ARCHITECTURES.get("mlp").build((28, 28, 1), 10)
    cfg = TrainConfig(initializer="he", l2=0.01, dropout=0.4, seed=3)
    assert hyper.apply_hyperparameters(model, cfg) == {"initialized": 3, "regularized": 3,
                                                       "dropout": 2}
    kernel = model.get_layer("dense_1").kernel.numpy()   # He normal: std √(2 / 784)
    assert abs(kernel.std() - np.sqrt(2 / 784)) < 0.1 * np.sqrt(2 / 784)
    penalty = sum(float(x) for x in model.losses)
    expected = 0.01 * sum(float((layer.kernel.numpy() ** 2).sum()) for layer in model.layers
                          if hasattr(layer, "kernel"))
    assert penalty == pytest.approx(expected, rel=1e-5)
    assert model.get_layer("dropout_1").rate == 0.4
    config = model.get_layer("dense_1").get_config()   # saved with the model, kept on resume
    assert config["kernel_regularizer"]["config"]["l2"] == pytest.approx(0.01)
    assert config["kernel_initializer"]["class_name"] == "HeNormal"


def _tiny_fit(cfg, epochs=6):
    keras().utils.set_random_seed(0)
    model = ARCHITECTURES.get("mlp").build((4, 4, 1), 2, {"units": 16, "dropout": 0.0})
    TASKS.get("classification").compile(model, cfg)
    y = np.arange(16) % 2
    x = np.random.default_rng(0).uniform(0, 50, (16, 4, 4, 1)) + 200 * y[:, None, None, None]
    callbacks = hyper.callbacks(cfg, has_validation=False)
    history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, callbacks=callbacks)
    return model, callbacks, history


def test_plateau_and_early_stopping_callbacks_act():
    # A learning rate this small cannot improve the loss: both callbacks must fire.
    cfg = TrainConfig(learning_rate=1e-9, lr_schedule="plateau", lr_patience=1, lr_decay=0.5,
                      early_stopping=True, patience=3)
    model, callbacks, history = _tiny_fit(cfg)
    plateau, early = callbacks
    assert isinstance(plateau, keras().callbacks.ReduceLROnPlateau) and plateau.monitor == "loss"
    assert float(model.optimizer.learning_rate) < 1e-9 * 0.5 + 1e-15
    assert early.stopped_early and hyper.stopped_early(callbacks)
    assert len(history.history["loss"]) < 6   # stopped after 3 epochs without improvement


def test_early_stopping_is_quiet_when_training_improves():
    model, callbacks, history = _tiny_fit(TrainConfig(learning_rate=1e-3, early_stopping=True,
                                                      patience=2), epochs=3)
    assert not hyper.stopped_early(callbacks) and len(history.history["loss"]) == 3
