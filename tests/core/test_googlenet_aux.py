"""GoogLeNet's auxiliary classifiers (paper: after 4a and 4d, loss weight 0.3): extra
parameters as computed by hand, the same single output, the loss terms, training through
the engine, and a safe-mode save/load round trip."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.config import RunConfig
from cnnstudio.core.families.classification.googlenet import AUX_WEIGHT, MODULES
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.predict import Predictor, load_model_file
from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.core.training.engine import run

SHAPE, CLASSES, WIDTH = (32, 32, 3), 5, 0.125


def _build(aux, width=WIDTH, shape=SHAPE):
    keras().utils.set_random_seed(3)
    return ARCHITECTURES.get("googlenet").build(shape, CLASSES, {"width": width, "aux": aux})


def _aux_params(channels, side, width, classes):
    """One head by hand: 5×5/3 valid pool, 1×1 conv, FC, softmax (weights + biases)."""
    f, u = max(1, round(128 * width)), max(1, round(1024 * width))
    pooled = (side - 5) // 3 + 1
    return channels * f + f + pooled * pooled * f * u + u + u * classes + classes


@pytest.mark.parametrize("shape,side,width", [(SHAPE, 16, WIDTH), ((224, 224, 3), 14, 1.0)])
def test_aux_heads_add_exactly_their_parameters(shape, side, width):
    def out_channels(spec):
        return sum(max(1, round(n * width)) for n in (spec[0], spec[2], spec[4], spec[5]))

    plain, with_aux = _build(False, width, shape), _build(True, width, shape)
    # Inputs of the heads: 4a's output (512 channels at full width) and 4d's (528).
    expected = (_aux_params(out_channels(MODULES["4a"]), side, width, CLASSES)
                + _aux_params(out_channels(MODULES["4d"]), side, width, CLASSES))
    if width == 1.0:   # the paper's numbers, spelled out
        assert expected == 2 * (128 + 4 * 4 * 128 * 1024 + 1024 + 1024 * 5 + 5) + \
            (512 + 528) * 128
    assert with_aux.count_params() - plain.count_params() == expected
    assert with_aux.output_shape == plain.output_shape == (None, CLASSES)
    assert len(with_aux.outputs) == 1


@pytest.mark.slow
def test_training_loss_adds_point_three_of_each_aux_cross_entropy():
    model = _build(True)
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras().layers.Dropout):
            layer.rate = 0.0        # deterministic: the loss below is a known answer
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (8, *SHAPE)).astype("float32")
    y = np.arange(8) % CLASSES
    model.compile(optimizer=keras().optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    ce = keras().losses.SparseCategoricalCrossentropy()
    main = float(ce(y, model.predict_on_batch(x)))
    aux = []
    for name in ("aux_4a", "aux_4d"):
        layer = model.get_layer(name)
        features = keras().Model(model.input, layer.input)(x)
        aux.append(float(ce(y, layer.head(features, training=False))))
    # Inference (evaluate) is the main classifier alone; a training step adds the heads.
    assert float(model.evaluate(x, y, verbose=0)) == pytest.approx(main, rel=1e-5)
    train_loss = float(model.train_on_batch(x, y))
    assert train_loss == pytest.approx(main + AUX_WEIGHT * sum(aux), rel=1e-5)
    assert train_loss > main + 0.5 * np.log(CLASSES)   # each aux term is near 0.3·ln 5 at init


@pytest.mark.slow
def test_trains_through_the_engine_and_round_trips_safely(runs_root):
    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 32}
    config.model.id, config.model.options = "googlenet", {"width": 0.0625, "aux": True}
    config.training.epochs, config.training.batch_size = 1, 64
    result = run(config, runs_root=runs_root)
    assert result.status == "finished", result.summary
    assert np.isfinite(result.summary["test"]["loss"])
    predictor = Predictor.from_run(result.run_dir)
    model = predictor.model
    assert type(model).__name__ == "GoogLeNet" and len(model.outputs) == 1
    path = runs_root / "again.keras"
    model.save(path)
    again = load_model_file(path)        # keras.saving.load_model(…, safe_mode=True)
    x = np.random.default_rng(1).uniform(0, 255, (4, 32, 32, 1)).astype("float32")
    np.testing.assert_array_equal(again.predict_on_batch(x), model.predict_on_batch(x))
    assert again.count_params() == model.count_params()
    assert [layer.name for layer in again.layers if "aux" in layer.name] == ["aux_4a", "aux_4d"]
