"""The epoch writer: background writes see exactly the snapshot's weights; models that
cannot be cloned are written on the training thread instead."""

import numpy as np

from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.core.training import epoch_writer
from cnnstudio.core.training.epoch_writer import EpochWriter


def _model():
    model = ARCHITECTURES.get("mlp").build((4, 4, 1), 3, {"units": 8})
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).uniform(0, 255, (12, 4, 4, 1))
    model.fit(x, np.arange(12) % 3, epochs=1, verbose=0)
    return model, x


def test_background_write_sees_the_epochs_weights_and_optimizer():
    model, x = _model()
    seen = {}

    def work(m, epoch):
        seen[epoch] = ([w.copy() for w in m.get_weights()],
                       int(m.optimizer.iterations.numpy()), m is model)

    writer = EpochWriter([work])
    expected = [w.copy() for w in model.get_weights()]
    writer(model, 1)
    model.fit(x, np.arange(12) % 3, epochs=1, verbose=0)      # training moves on meanwhile
    writer.close()
    weights, iterations, same = seen[1]
    assert not same                                         # written from the shadow copy
    assert iterations == 1
    for got, want in zip(weights, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_model_that_cannot_be_cloned_is_written_on_the_training_thread(monkeypatch):
    def refuse(model):
        raise ValueError("not clonable")

    monkeypatch.setattr(epoch_writer, "_make_shadow", refuse)
    model, _ = _model()
    calls = []
    writer = EpochWriter([lambda m, epoch: calls.append((m is model, epoch))])
    writer(model, 1)          # the background attempt fails…
    writer(model, 2)          # …so from here on the work runs here, with the live model
    writer(model, 3)
    writer.close()
    assert calls == [(True, 2), (True, 3)]
