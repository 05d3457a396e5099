"""The semi-supervised GAN: its arithmetic on hand-made numbers (numpy and keras.ops run the
same functions), the labelled subset, bad input, and tiny runs through the engine with
stop / resume restoring both optimizers."""

import json
import math

import numpy as np
import pytest

from cnnstudio.core.config import RunConfig
from cnnstudio.core.errors import DataError, StudioError
from cnnstudio.core.families.generative import ssgan_losses as L
from cnnstudio.core.families.profile import task_profile
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.training import engine
from cnnstudio.core.training.control import RunControl
from cnnstudio.core.training.events import BatchEnd, EpochEnd, Notice, RunFailed, RunStarted
from cnnstudio.core.training.rundir import RunDir


def _both(fn, *arrays):
    """fn on numpy and on keras.ops (what train_step uses): the same answer, returned once."""
    ops = keras().ops
    with_np = np.asarray(fn(*[np.asarray(a, np.float64) for a in arrays], xp=np))
    with_ops = ops.convert_to_numpy(fn(*[ops.convert_to_tensor(np.asarray(a, np.float32))
                                         for a in arrays], xp=ops))
    np.testing.assert_allclose(with_ops, with_np, rtol=1e-5, atol=1e-5)
    return with_np


def test_feature_matching_loss_is_the_squared_distance_between_batch_means():
    real = [[1.0, 2.0], [3.0, 4.0]]          # mean (2, 3)
    fake = [[0.0, 0.0], [2.0, 2.0], [1.0, 1.0]]   # mean (1, 1)
    assert _both(L.feature_matching_loss, real, fake) == pytest.approx(1.0 + 4.0)
    assert _both(L.feature_matching_loss, real, [[3.0, 2.0], [1.0, 4.0]]) == pytest.approx(0)


def test_real_fake_logit_is_log_sum_exp_of_the_class_logits():
    logits = [[0.0, 0.0], [0.0, math.log(3.0)], [1000.0, 1000.0]]
    lse = _both(L.realness_logit, logits)
    np.testing.assert_allclose(lse, [math.log(2), math.log(4), 1000 + math.log(2)], rtol=1e-6)
    # D(x) = Z / (Z + 1) with Z = Σ exp(l): 2/3, 4/5, and 1 without overflowing.
    np.testing.assert_allclose(_both(L.realness, logits), [2 / 3, 4 / 5, 1.0], rtol=1e-6)
    np.testing.assert_allclose(_both(L.class_probabilities, logits)[1], [0.25, 0.75])


def test_supervised_and_unsupervised_losses_on_known_logits():
    # Labelled: p(class 1) = 3/4 → cross-entropy −log 3/4.
    assert _both(L.supervised_loss, [[0.0, math.log(3.0)]], [[0.0, 1.0]]) == \
        pytest.approx(-math.log(0.75))
    # Unlabelled real with Z = 3 → D = 3/4; fake with Z = 1 → D = 1/2.
    real, fake = [[0.0, math.log(2.0)]], [[-math.log(2.0), -math.log(2.0)]]
    expected = 0.5 * -math.log(0.75) + 0.5 * -math.log(1 - 0.5)
    assert _both(L.unsupervised_loss, real, fake) == pytest.approx(expected, rel=1e-5)


def test_labelled_subset_takes_per_class_images_with_the_seed():
    labels = np.array([0] * 5 + [1] * 3 + [2] * 4)
    picked = L.labelled_subset(labels, 2, 3, seed=7)
    assert np.bincount(labels[picked]).tolist() == [2, 2, 2]
    assert picked.tolist() == sorted(picked.tolist())
    assert np.array_equal(picked, L.labelled_subset(labels, 2, 3, seed=7))
    others = {tuple(L.labelled_subset(labels, 2, 3, seed=s)) for s in range(10)}
    assert len(others) > 1
    assert len(L.labelled_subset(labels, 3, 3, seed=0)) == 9


def test_too_many_labels_per_class_is_one_clear_message():
    labels = np.array([0] * 5 + [1] * 3 + [2] * 4)
    with pytest.raises(DataError) as err:
        L.labelled_subset(labels, 4, 3, seed=0)
    assert str(err.value) == (
        "labelled_per_class is 4, but the training images hold only 3 of class 1 (the "
        "fewest; 1 of 3 classes have fewer than 4); ask for at most 3 labels per class")


def test_profile_plots_the_keys_the_train_step_returns():
    profile = task_profile("ssgan")
    assert profile.keys() == ["d_loss", "g_loss", "accuracy", "d_real", "d_fake"]
    assert profile.prediction == "discriminate" and profile.best_metric == "val_accuracy"


def _config(epochs=2, per_class=5, **options):
    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 12}
    config.model.id = "ssgan"
    config.model.options = {"labelled_per_class": per_class, "latent_size": 16, **options}
    t = config.training
    t.epochs, t.batch_size, t.validation_split, t.learning_rate = epochs, 128, 0.1, 1e-3
    return config


@pytest.mark.slow
def test_a_tiny_ssgan_run_trains_records_labels_and_grids(runs_root):
    events = []
    result = engine.run(_config(), runs_root=runs_root, sink=events.append)
    assert result.status == "finished", result.summary
    ends = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in ends] == [1, 2]
    assert {"d_loss", "g_loss", "accuracy", "d_real", "d_fake", "val_accuracy"} <= \
        set(ends[-1].logs)
    assert any(isinstance(e, Notice) and "50 labelled images (5 per class)" in e.message
               for e in events)
    folder = RunDir.open(result.run_dir)
    labels = json.loads((folder.path / "labels.json").read_text())
    assert labels["labels"] == 50 and len(labels["indices"]) == 50
    evaluation = json.loads((folder.path / "evaluation.json").read_text())
    assert evaluation["labels"] == 50 and evaluation["num_test"] == 360
    assert 0 <= evaluation["accuracy"] <= 1
    assert evaluation["accuracy"] == pytest.approx(result.summary["test"]["accuracy"])
    assert sorted(p.name for p in (folder.path / "probes").glob("gan-epoch-*.npz")) == \
        ["gan-epoch-0001.npz", "gan-epoch-0002.npz"]

    model = load_model_file(folder.path / "model.keras")
    images = _digits_test_images()
    probs = model.classify(images)
    assert probs.shape == (len(images), 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    logits = keras().ops.convert_to_numpy(model.class_logits(images)).astype(np.float64)
    realness = np.asarray(model(images)).ravel()
    np.testing.assert_allclose(realness, L.realness(logits), rtol=1e-4)


def _digits_test_images():
    from cnnstudio.core.config import DatasetConfig
    from cnnstudio.core.datasets import load_dataset

    return load_dataset(DatasetConfig("digits", {"size": 12})).test.x[:20]


@pytest.mark.slow
def test_stop_then_resume_restores_both_optimizers(runs_root):
    control = RunControl()
    first = []

    def sink(event):
        first.append(event)
        if isinstance(event, BatchEnd) and event.epoch == 2 and event.step == 2:
            control.stop()

    result = engine.run(_config(epochs=2), runs_root=runs_root, sink=sink, control=control)
    assert result.status == "stopped"
    folder = RunDir.open(result.run_dir)
    (epoch, path), = folder.checkpoints()
    saved = load_model_file(path)
    steps = next(e for e in first if isinstance(e, RunStarted)).steps_per_epoch
    assert epoch == 1
    assert int(saved.optimizer.iterations.numpy()) == steps
    assert int(saved.g_optimizer.iterations.numpy()) == steps
    # Adam's moments came back too, not fresh zeros.
    assert any(np.abs(np.asarray(v)).sum() > 0 for v in saved.g_optimizer.variables[2:])

    events = []
    again = engine.resume(result.run_dir, sink=events.append)
    assert again.status == "finished"
    assert next(e for e in events if isinstance(e, RunStarted)).initial_epoch == 1
    final = load_model_file(folder.path / "model.keras")
    assert int(final.optimizer.iterations.numpy()) == 2 * steps
    assert int(final.g_optimizer.iterations.numpy()) == 2 * steps
    # The resumed run trained on the same labelled images.
    assert json.loads((folder.path / "labels.json").read_text())["labels"] == 50


def test_more_labels_than_the_data_has_is_said_before_anything_is_written(runs_root):
    events = []
    with pytest.raises(StudioError) as err:
        engine.run(_config(per_class=500), runs_root=runs_root, sink=events.append)
    message = str(err.value)
    assert message.startswith("labelled_per_class is 500, but the training images hold only ")
    assert "ask for at most" in message and "\n" not in message
    assert list(runs_root.iterdir()) == []                  # no run folder was made
    assert not any(isinstance(e, RunFailed) for e in events)


@pytest.mark.slow
def test_the_labels_alone_baseline_leaves_the_generator_untouched(runs_root):
    result = engine.run(_config(epochs=1, unsupervised_weight=0.0), runs_root=runs_root)
    assert result.status == "finished"
    folder = RunDir.open(result.run_dir)
    model = load_model_file(folder.path / "model.keras")
    assert int(model.g_optimizer.iterations.numpy()) == 0
    assert json.loads((folder.path / "evaluation.json").read_text())["supervised_only"]


def test_colour_images_get_the_conv_networks():
    from cnnstudio.core.registry import ARCHITECTURES

    model = ARCHITECTURES.get("ssgan").build((32, 32, 3), 10, {"filters": 8, "latent_size": 8})
    assert model.network == "conv"
    assert tuple(model.generate(np.zeros((2, 8), np.float32)).shape) == (2, 32, 32, 3)
    images = np.zeros((3, 32, 32, 3), np.uint8)
    assert model.classify(images).shape == (3, 10)
    assert tuple(model(images).shape) == (3, 1)


def test_inference_reads_the_average_of_ds_weights_and_training_reads_d():
    from cnnstudio.core.registry import ARCHITECTURES

    arch = ARCHITECTURES.get("ssgan")
    model = arch.build((8, 8, 1), 10, {"latent_size": 4})
    assert model.ema == 0.99 and model.discriminator_ema is not None      # the default
    images = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 1)).astype(np.uint8)
    model.discriminator_ema.set_weights([w * 0 for w in model.discriminator.get_weights()])
    # All-zero weights: every class logit 0, so p(class) is uniform and D(x) = 10 / 11.
    assert np.allclose(model.classify(images), 0.1)
    assert np.allclose(np.asarray(model(images)), 10 / 11, atol=1e-6)
    trained = keras().ops.convert_to_numpy(model.class_logits(images, training=True))
    assert np.abs(trained).sum() > 0                     # training steps see D itself
    plain = arch.build((8, 8, 1), 10, {"latent_size": 4, "ema": 0})
    assert plain.discriminator_ema is None
