"""Families with their own ``train_step`` (GAN, recurrent attention, Mask R-CNN) run through
the same engine: a task supplies data, compilation and evaluation; events and run
directories come for free. Shown here with a small denoising autoencoder."""

import numpy as np
import pytest

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.config import RunConfig
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.core.training import engine
from cnnstudio.core.training.events import EpochEnd, RunFinished
from cnnstudio.core.training.rundir import RunDir
from cnnstudio.core.training.tasks import TASKS, FitData

tf = pytest.importorskip("tensorflow")


@keras().saving.register_keras_serializable(package="cnnstudio_tests")
class Denoiser(keras().Model):
    """Learns to remove noise it adds itself: the loss is computed inside train_step."""

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.shape = tuple(shape)
        layers = keras().layers
        self.net = keras().Sequential([
            keras().Input(shape), layers.Rescaling(1 / 255),
            layers.Conv2D(8, 3, padding="same", activation="relu"),
            layers.Conv2D(shape[-1], 3, padding="same", activation="sigmoid")])
        self.tracker = keras().metrics.Mean(name="loss")

    def get_config(self):     # checkpoints save the model: families must be serializable
        return {**super().get_config(), "shape": self.shape}

    def call(self, x):
        return self.net(x)

    @property
    def metrics(self):
        return [self.tracker]

    def train_step(self, x):
        clean = tf.cast(x, "float32") / 255.0
        noisy = tf.clip_by_value(x + tf.random.normal(tf.shape(x), stddev=40.0), 0, 255)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(self(noisy) - clean))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        self.tracker.update_state(loss)
        return {"loss": self.tracker.result()}


class DenoiseTask:
    def prepare(self, dataset, shape, cfg, sink):
        x = dataset.train.x.astype("float32")
        steps = int(np.ceil(len(x) / cfg.batch_size))
        return FitData({"x": x, "batch_size": cfg.batch_size}, dataset.test.x.astype("float32"),
                       len(x), 0, len(dataset.test), steps)

    def compile(self, model, cfg, data):
        model.compile(optimizer=keras().optimizers.Adam(cfg.learning_rate))

    def evaluate(self, model, data, batch_size):
        clean = data.test / 255.0
        return {"mse": float(np.mean((model.predict(data.test, verbose=0) - clean) ** 2))}


@pytest.fixture
def denoiser_registered(monkeypatch):
    monkeypatch.setitem(TASKS._entries, "denoise", DenoiseTask())
    arch = Architecture("denoiser", "Denoiser", "a test family", "test",
                        lambda shape, classes: Denoiser(shape), task="denoise")
    monkeypatch.setitem(ARCHITECTURES._entries, "denoiser", arch)


def test_a_model_with_its_own_train_step_runs_through_the_engine(denoiser_registered,
                                                                 runs_root):
    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 12}
    config.model.id = "denoiser"
    config.training.epochs, config.training.learning_rate = 3, 0.01
    events = []
    result = engine.run(config, runs_root=runs_root, sink=events.append)
    assert result.status == "finished"
    losses = [e.logs["loss"] for e in events if isinstance(e, EpochEnd)]
    assert len(losses) == 3 and losses[-1] < losses[0]
    finished = events[-1]
    assert isinstance(finished, RunFinished) and 0 <= finished.test["mse"] < 0.1
    folder = RunDir.open(result.run_dir)
    assert [n for n, _ in folder.checkpoints()] == [2, 3]
    assert folder.status() == "finished"
