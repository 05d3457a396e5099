import pytest

from cnnstudio.core.architecture import format_table, layer_table
from cnnstudio.core.errors import ModelError
from cnnstudio.core.registry import ARCHITECTURES


def lenet5_params(classes=10):
    # Independent count: conv weights + biases, then dense layers (28×28 "same" → 5×5×16 = 400).
    conv = (5 * 5 * 1 * 6 + 6) + (5 * 5 * 6 * 16 + 16)
    return conv + (400 * 120 + 120) + (120 * 84 + 84) + (84 * classes + classes)


def book_cifar_params():
    conv = (3 * 3 * 3 * 32 + 32) + (3 * 3 * 32 * 32 + 32) + (3 * 3 * 32 * 64 + 64) \
        + (3 * 3 * 64 * 64 + 64)
    return conv + (6 * 6 * 64 * 512 + 512) + (512 * 10 + 10)


@pytest.mark.parametrize("arch, shape, expected", [
    ("mlp", (28, 28, 1), 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10),
    ("lenet5", (28, 28, 1), lenet5_params()),
    ("book-cifar", (32, 32, 3), book_cifar_params()),
])
def test_parameter_counts_match_an_independent_count(arch, shape, expected):
    model = ARCHITECTURES.get(arch).build(shape, 10)
    assert model.count_params() == expected
    rows = layer_table(model)
    assert sum(r["params"] for r in rows) == expected
    assert rows[-1]["output_shape"] == [None, 10] and rows[-1]["type"] == "Dense"
    assert f"{expected:,}" in format_table(rows)


def test_builders_adapt_to_input_shape_and_class_count():
    model = ARCHITECTURES.get("lenet5").build((32, 32, 3), 43)
    assert tuple(model.inputs[0].shape) == (None, 32, 32, 3)
    assert tuple(model.outputs[0].shape) == (None, 43)


def test_too_small_inputs_and_bad_options_are_refused_clearly():
    with pytest.raises(ModelError, match="lenet5 needs inputs of at least 12×12, got 8×8"):
        ARCHITECTURES.get("lenet5").build((8, 8, 1), 10)
    with pytest.raises(ModelError, match="unknown option 'filters' for mlp — known: units"):
        ARCHITECTURES.get("mlp").build((28, 28, 1), 10, {"filters": 3})
    with pytest.raises(ModelError, match="at least two classes"):
        ARCHITECTURES.get("mlp").build((28, 28, 1), 1)
