"""The RAM's glimpse_mix option with known answers, and the options
benchmarks/ram_accuracy.py hands the RAM (--ram-options, --datasets, --models)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from cnnstudio.core.errors import ModelError
from cnnstudio.core.predict import load_model_file

tf = pytest.importorskip("tensorflow")

SMALL = {"glimpses": 2, "patch": 8, "scales": 2, "hidden": 16}


def build(**options):
    from cnnstudio.core.registry import ARCHITECTURES

    return ARCHITECTURES.get("ram").build((32, 32, 1), 10, {**SMALL, **options})


def images(n=4, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 1)).astype(np.float32)


@pytest.mark.parametrize("options, message", [
    ({"glimpse_mix": "concat"}, "ram: glimpse_mix must be one of add, multiply, got 'concat'"),
])
def test_a_bad_mix_gets_one_clear_message(options, message):
    with pytest.raises(ModelError, match=message):
        build(**options)


def test_multiply_starts_with_the_where_gate_open_at_the_centre():
    model = build(glimpse_mix="multiply")
    np.testing.assert_array_equal(model.glimpse_from_where.bias.numpy(), np.ones(16))
    first = model._unroll(tf.constant(images()), "mean")["logits"][0]     # looked at l = 0
    assert np.abs(np.asarray(first)).max() > 0


def test_multiply_gates_every_patch_feature_by_where_it_was_seen():
    """With the "where" pathway's output zero, what × where is zero whatever the patches
    hold: every image gets the same answer. Added, the patches still count."""
    for mix, same in (("multiply", True), ("add", False)):
        model = build(glimpse_mix=mix)
        where = model.glimpse_from_where
        assert len(where.weights) == (2 if mix == "multiply" else 1)   # its bias: multiply
        for w in where.weights:
            w.assign(np.zeros(w.shape, np.float32))
        a, b = np.asarray(model(images(seed=1))), np.asarray(model(images(seed=2)))
        assert np.allclose(a, b, atol=1e-6) == same


def test_the_mix_is_in_the_config_and_survives_a_round_trip(tmp_path):
    model = build(glimpse_mix="multiply")
    x = images()
    model.save(tmp_path / "ram.keras")
    loaded = load_model_file(tmp_path / "ram.keras")
    assert loaded.get_config()["glimpse_mix"] == "multiply"
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(loaded(x)))


def benchmark():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "ram_accuracy.py"
    spec = importlib.util.spec_from_file_location("ram_accuracy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_records_the_ram_options_and_keeps_the_issue_s_sensor():
    bench = benchmark()
    args = SimpleNamespace(hint_epochs=10, patch_net="dense", glimpse_mix="multiply",
                           ram_options=json.dumps({"std": 0.1}))
    assert bench.ram_options(args) == {"glimpses": 6, "patch": 12, "scales": 3,
                                       "hint_epochs": 10, "patch_net": "dense",
                                       "glimpse_mix": "multiply", "std": 0.1}
    args.ram_options = json.dumps({"glimpse_mix": "add"})       # the JSON has the last word
    assert bench.ram_options(args)["glimpse_mix"] == "add"
    args.ram_options = json.dumps({"glimpses": 4})
    with pytest.raises(SystemExit, match="the issue fixes glimpses"):
        bench.ram_options(args)
    assert bench._names("cluttered", bench.DATASETS, "datasets") == ["cluttered"]
    with pytest.raises(SystemExit, match="choose from ram, fc-256, conv-2, conv-pool, got"):
        bench._names("cnn", bench.MODELS + bench.EXTRA, "models")
