"""A damaged or untrusted model file gets one sentence that says what is wrong and what to
do (issue 23): a cut-short model.keras is "damaged", with the newest intact checkpoint
named; a file that would run code when loaded is refused, saying so."""

from __future__ import annotations

import shutil

import pytest

from cnnstudio.core.errors import StudioError
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.predict import load_model_file


def _small_model():
    k = keras()
    inputs = k.Input((4,))
    return k.Model(inputs, k.layers.Dense(2, name="predictions")(inputs))


def test_a_cut_short_model_file_is_called_damaged_and_the_checkpoint_named(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    model = _small_model()
    model.save(run / "checkpoints" / "epoch-0002.keras")
    model.save(run / "model.keras")
    data = (run / "model.keras").read_bytes()
    (run / "model.keras").write_bytes(data[:len(data) // 2])         # a kill mid-copy
    with pytest.raises(StudioError) as err:
        load_model_file(run / "model.keras")
    assert str(err.value) == ("model file model.keras is damaged (not a complete .keras "
                              "file); the newest intact checkpoint is "
                              "checkpoints/epoch-0002.keras: it holds the model as it was "
                              "after that epoch")
    shutil.rmtree(run / "checkpoints")
    with pytest.raises(StudioError, match="damaged .*; no intact checkpoint is beside it$"):
        load_model_file(run / "model.keras")


def test_a_file_that_would_run_code_is_refused_saying_why(tmp_path):
    k = keras()
    inputs = k.Input((4,))
    model = k.Model(inputs, k.layers.Lambda(lambda x: x * 2)(inputs))
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(StudioError) as err:
        load_model_file(tmp_path / "lambda.keras")
    assert str(err.value).startswith("refused to load lambda.keras: it holds Python code (a "
                                     "Lambda layer or a custom function) that would run when "
                                     "loaded. If you trust where it came from")
