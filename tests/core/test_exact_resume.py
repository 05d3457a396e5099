"""A run stopped after epoch 1 and resumed ends with the very weights of a run never stopped,
for every family (CPU, a seed, three training steps per call): the data order, the model's random streams (dropout, noise,
sampled glimpse locations) and the global generators all come back with the checkpoint.

Mask R-CNN needs TensorFlow's deterministic ops for that (its profile says why): it is
checked in a child process started with TF_DETERMINISTIC_OPS=1. The RAM's runs, whole or
resumed, sometimes come out 5e-3 apart when the machine is busy (a race not yet found; its
profile says so): it is held to that closeness, not to the bit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnstudio.core.keras_setup import keras
from cnnstudio.core.training import engine
from cnnstudio.core.training.control import RunControl
from cnnstudio.core.training.rundir import RunDir


def _classifier():
    from tests.core.test_engine import tiny

    config = tiny(epochs=2, model="lenet5")
    config.dataset.options = {"size": 16}
    config.training.augmentation = {"flip": "horizontal", "rotation": 0.05}
    return config


def _folder(tmp):
    from tests.core.test_transfer import _bars

    return str(tmp / "bars") if (tmp / "bars").is_dir() else str(_bars(tmp / "bars"))


def _classifier_from_files(tmp):
    """A folder of images: batches read from disk by Keras's workers (FileBatches)."""
    from cnnstudio.core.config import ModelConfig, RunConfig, TrainConfig
    from cnnstudio.core.datasets import dataset_config

    return RunConfig(dataset=dataset_config(_folder(tmp), image_size=16, test_fraction=0.25),
                     model=ModelConfig("mlp", {"units": 16}),
                     training=TrainConfig(epochs=2, batch_size=8, seed=5))


def _transfer(tmp):
    """Feature extraction: the head trains on cached bottleneck features (arrays)."""
    from cnnstudio.core.config import ModelConfig, RunConfig, TrainConfig
    from cnnstudio.core.datasets import dataset_config

    return RunConfig(dataset=dataset_config(_folder(tmp), image_size=32, test_fraction=0.25),
                     model=ModelConfig("transfer", {"base": "vgg16", "weights": "none",
                                                    "head_units": 16, "dropout": 0.3}),
                     training=TrainConfig(epochs=2, batch_size=8, seed=5,
                                          validation_split=0.0))


def _gan():
    from tests.core.test_gan import tiny

    return tiny(epochs=2)


def _dcgan():
    from tests.core.test_gan import tiny

    config = tiny(epochs=2, model="dcgan", options={"latent_size": 8, "filters": 8})
    config.dataset.options = {"size": 12}
    return config


def _ssgan():
    from tests.core.test_ssgan import _config

    return _config(epochs=2)


def _ram():
    from tests.core.test_ram import tiny

    config = tiny(epochs=2)
    config.training.batch_size = 16          # 6 batches an epoch: calls of 3 and 3
    return config


def _autoencoder():
    from tests.core.test_autoencoder import tiny_config

    return tiny_config(epochs=2)


def _captioner():
    from tests.core.test_captioner_engine import tiny

    config = tiny(epochs=2)
    config.training.batch_size = 16          # 4 batches an epoch: calls of 3 and 1
    return config


def _pix2pix():
    from tests.core.test_pix2pix import tiny

    config = tiny(epochs=2)
    config.dataset.options["count"] = 64     # 4 batches an epoch: calls of 3 and 1
    return config


def _maskrcnn():
    from tests.core.test_maskrcnn import tiny_config

    return tiny_config(epochs=2)        # one step per call (its profile says why)


def _fast_rcnn():
    from tests.core.test_fast_rcnn import tiny_config

    config = tiny_config(epochs=2)
    config.dataset.options["count"] = 20     # 5 batches an epoch: calls of 3 and 2
    return config


FAMILIES = {"classifier+augmentation": _classifier, "classifier-files": _classifier_from_files,
            "transfer": _transfer, "gan": _gan, "dcgan": _dcgan,
            "ssgan": _ssgan, "ram": _ram, "autoencoder": _autoencoder,
            "captioner": _captioner, "maskrcnn": _maskrcnn, "pix2pix": _pix2pix,
            "fast-rcnn": _fast_rcnn,
            # 4 batches an epoch: calls of 3 and 1
            "multitask": lambda: __import__("tests.core.test_multitask",
                                            fromlist=["tiny"]).tiny(epochs=2, batch_size=12)}


def _final_weights(run_dir) -> list[np.ndarray]:
    model = keras().saving.load_model(RunDir(run_dir).path / "model.keras", safe_mode=True)
    return model.get_weights()


TAKE_A_FOLDER = {"classifier-files", "transfer"}
IN_CHILD = os.environ.get("CNNSTUDIO_RESUME_CHILD") == "1"
CHILD_ENV = {"maskrcnn": {"TF_DETERMINISTIC_OPS": "1"}}   # checked in a child process
CLOSE_ONLY = {"ram": 1e-2}           # its profile's resume_note says why


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(family, runs_root,
                                                                   tmp_path):
    if family in CHILD_ENV and not IN_CHILD:
        pytest.skip("checked in a child process of its own (test below)")
    maker = FAMILIES[family]

    def make():
        config = maker(tmp_path) if family in TAKE_A_FOLDER else maker()
        # Several steps per call, and a count that does not divide the epoch: the last call
        # of each epoch is shorter, and the resumed run must start at the epoch's first batch.
        config.training.steps_per_call = 3
        return config

    whole = engine.run(make(), runs_root=runs_root)
    control = RunControl()

    def stop_after_first(model, epoch):
        if epoch == 1:
            control.stop()

    cut = engine.run(make(), runs_root=runs_root, control=control,
                     epoch_hooks=[stop_after_first])
    assert cut.status == "stopped" and RunDir(cut.run_dir).last_checkpoint()[0] == 1
    # Stop acts at the next batch: a batch of epoch 2 was trained and logged, then dropped.
    resumed = engine.resume(cut.run_dir)
    assert whole.status == resumed.status == "finished", resumed.summary
    for a, b in zip(_final_weights(whole.run_dir), _final_weights(resumed.run_dir),
                    strict=True):
        if family in CLOSE_ONLY:
            np.testing.assert_allclose(a, b, rtol=0, atol=CLOSE_ONLY[family])
        else:
            np.testing.assert_array_equal(a, b)
    steps = [(r["epoch"], r["step"]) for r in RunDir(resumed.run_dir).records({"batch_end"})]
    assert len(steps) == len(set(steps))                  # no batch counted twice
    assert steps == [(r["epoch"], r["step"])
                     for r in RunDir(whole.run_dir).records({"batch_end"})]


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(CHILD_ENV))
def test_in_a_fresh_process(family):
    from cnnstudio.core.families.profile import arch_profile

    assert "TF_DETERMINISTIC_OPS=1" in arch_profile("maskrcnn").resume_note
    assert all(arch_profile(f).resume_note for f in CLOSE_ONLY)
    env = {**os.environ, "CNNSTUDIO_RESUME_CHILD": "1", **CHILD_ENV[family]}
    name = test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one.__name__
    test = f"{Path(__file__).resolve()}::{name}[{family}]"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                           "-p", "no:xdist", "-p", "no:cacheprovider", test],
                          env=env, capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-3000:]
